package ai.sonia.pipecat.domain;

import java.util.concurrent.Executor;

/** The voice pipeline's engines, and whether they are installed. */
public interface VoiceSupport {

    /** Whether speech can be recognized and synthesized here. */
    boolean available();

    /** What is installed or missing, for {@code /status} and error messages. */
    String describe();

    /** The voice turns of one connection to a voice session. */
    VoiceTurns newTurns(LiveSession session, ChatClient chat, Executor executor, String correlationId);
}
