package ai.sonia.gateway.domain;

/**
 * What the domain needs of the request being served, without knowing the server: the client's address (for
 * the audit and the login throttle) and a {@code Retry-After} to send with a refusal.
 */
public interface CurrentRequest {

    /** Outside any request: no address, nothing to send. */
    CurrentRequest NONE = new CurrentRequest() {
        @Override
        public String clientAddress() {
            return "";
        }

        @Override
        public void retryAfter(long seconds) {}
    };

    /** The client's IP address, or "" outside a request. */
    String clientAddress();

    /** Asks the reply to the current request to carry {@code Retry-After: seconds}. */
    void retryAfter(long seconds);
}
