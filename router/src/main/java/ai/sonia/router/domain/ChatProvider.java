package ai.sonia.router.domain;

import java.util.function.Consumer;

/** Calls one kind of provider. Failures are thrown as {@link ProviderFailure}. */
public interface ChatProvider {

    /** Completes the conversation in one call. */
    Completion chat(Deployment deployment, ChatCall call);

    /**
     * Streams the completion: each piece of text goes to {@code onDelta} as it comes, and the call returns
     * when the answer is complete. A failure after a delta was given is thrown like any other. When
     * {@code onDelta} throws (the caller went away), the provider's call is stopped and the exception
     * thrown on as it is.
     */
    Completion stream(Deployment deployment, ChatCall call, Consumer<String> onDelta);
}
