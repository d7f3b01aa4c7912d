package ai.sonia.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import org.junit.jupiter.api.Test;

import io.grpc.Metadata;
import io.grpc.Status;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisBusyException;
import redis.clients.jedis.exceptions.JedisClusterException;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;

/**
 * A Redis that cannot be reached, or that answers an error reply which passes by itself, makes a call UNAVAILABLE
 * (retriable), not INTERNAL, and says no more than that.
 */
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
        assertThat(status.getDescription()).isEqualTo("the shared engine (Redis) cannot serve now; try again later");
        assertThat(trailers.keys()).contains("grpc-status-details-bin");
    }

    @Test
    void errorRepliesThatPassByThemselvesAreUnavailableAndOthersAreInternal() {
        for (RuntimeException passing : java.util.List.of(
                new JedisBusyException("BUSY Redis is busy running a script"),
                new JedisDataException("LOADING Redis is loading the dataset in memory"),
                new JedisDataException("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."),
                new JedisDataException("READONLY You can't write against a read only replica."),
                new JedisDataException("TRYAGAIN Multiple keys request during rehashing of slot"),
                new JedisClusterException("CLUSTERDOWN The cluster is down"))) {
            final Status status = new DefaultExceptionHandler("gateway").apply(null, Status.UNKNOWN, passing,
                                                                              new Metadata());
            assertThat(status.getCode()).as(passing.getMessage()).isEqualTo(Status.Code.UNAVAILABLE);
        }
        final Status bug = new DefaultExceptionHandler("gateway").apply(
                com.linecorp.armeria.server.ServiceRequestContext.of(com.linecorp.armeria.common.HttpRequest.of(
                        com.linecorp.armeria.common.HttpMethod.POST, "/ai.sonia.gateway.v1.GatewayService/Chat")),
                Status.UNKNOWN, new JedisDataException("WRONGTYPE Operation against a key holding the wrong kind"),
                new Metadata());
        assertThat(bug.getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(bug.getDescription()).isEqualTo("internal error");
    }
}
