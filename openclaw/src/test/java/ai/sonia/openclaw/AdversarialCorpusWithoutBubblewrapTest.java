package ai.sonia.openclaw;

import java.util.Map;

/**
 * The adversarial corpus with bubblewrap hidden from the service (its PATH holds no bwrap), in the default
 * {@code jail: auto}: every program must be refused with FAILED_PRECONDITION naming the package, never run
 * unconfined; the tools that need no process still work and still contain.
 */
class AdversarialCorpusWithoutBubblewrapTest extends AdversarialCorpusRun {

    @Override
    boolean withBubblewrap() {
        return false;
    }

    @Override
    Map<String, String> openclawEnv() {
        return Map.of("PATH", "/nonexistent/sonia-without-bwrap");
    }
}
