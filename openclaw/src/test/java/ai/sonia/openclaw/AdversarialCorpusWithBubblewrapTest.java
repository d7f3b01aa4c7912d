package ai.sonia.openclaw;

import java.util.Map;

/** The adversarial corpus with bubblewrap: fails loudly when it is missing (see {@link TestJail}). */
class AdversarialCorpusWithBubblewrapTest extends AdversarialCorpusRun {

    @Override
    boolean withBubblewrap() {
        return true;
    }

    @Override
    Map<String, String> openclawEnv() {
        return Map.of();
    }
}
