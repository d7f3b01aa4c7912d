package ai.sonia.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import org.junit.jupiter.api.Test;

import io.grpc.Metadata;
import io.grpc.Status;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;

/** A Redis that cannot be reached makes a call UNAVAILABLE (retriable), not INTERNAL, and says no more than that. */
class SharedEngineUnavailableTest {

    @Test
    void anUnreachableRedisIsUnavailable() throws Exception {
        final int closed = ai.sonia.runtime.testing.FreePorts.pick(); // nothing listens there
        final Throwable failure;
        try (UnifiedJedis redis = RedisClient.create("127.0.0.1", closed)) {
            failure = catchThrowable(redis::ping);
        }
        assertThat(failure).isInstanceOf(JedisConnectionException.class);
        final Metadata trailers = new Metadata();
        final Status status = new DefaultExceptionHandler("evaos").apply(null, Status.UNKNOWN, failure, trailers);
        assertThat(status.getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(status.getDescription()).isEqualTo("the shared engine (Redis) cannot be reached now");
    }
}
