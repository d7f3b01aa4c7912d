package ai.sonia.runtime.testing;

import com.linecorp.armeria.client.WebClient;
import com.linecorp.armeria.common.AggregatedHttpResponse;
import com.linecorp.armeria.common.HttpMethod;
import com.linecorp.armeria.common.MediaType;
import com.linecorp.armeria.common.RequestHeaders;

/** REST calls of the tests, made the one way. */
public final class Rest {

    private Rest() {}

    /** POSTs {@code json} to {@code path} and waits for the whole answer. */
    public static AggregatedHttpResponse postJson(WebClient client, String path, String json) {
        return client.execute(RequestHeaders.of(HttpMethod.POST, path, "content-type", MediaType.JSON_UTF_8), json)
                     .aggregate().join();
    }
}
