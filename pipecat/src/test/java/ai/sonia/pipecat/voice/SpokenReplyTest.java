package ai.sonia.pipecat.voice;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** What of a written reply is said aloud. */
class SpokenReplyTest {

    @Test
    void memoryReferencesAndIdsAreNotSaid() {
        assertThat(SpokenReply.of("Your favourite colour is green (memories/01HZX3K9QW). You told me in May "
                                  + "[memories/a1, memories/b2]."))
                .containsExactly("Your favourite colour is green.", "You told me in May.");
        assertThat(SpokenReply.of("See memories/01HZX3K9QW for the rest (sources: memories/x; memories/y)."))
                .containsExactly("See for the rest.");
    }

    @Test
    void markupLinksAndCitationsAreNotSaid() {
        assertThat(SpokenReply.of("## Plan\n**Tomorrow** you have _two_ meetings[1]:\n- standup at `9:30`\n"
                                  + "- lunch with [Bob](https://example.com/bob)\nDetails: https://example.com/x"))
                .containsExactly("Plan.", "Tomorrow you have two meetings:", "standup at 9:30.");
        assertThat(String.join(" ", SpokenReply.of("Run this:\n```\nrm -rf /tmp/x\n```\nThen it works.")))
                .isEqualTo("Run this: Then it works.");
    }

    @Test
    void aSourceListIsNotSaid() {
        assertThat(SpokenReply.of("Alice lives in Lisbon.\n\nSources:\n- memories/1\n- Notes from May (memories/2)"))
                .containsExactly("Alice lives in Lisbon.");
    }

    @Test
    void quotedPassagesAreTheAnswerWithoutTheirFramingOrSources() {
        final String extractive = "No language model is reachable, so I am answering extractively, without an LLM: "
                                  + "these are the passages of what I was given that best match your question, "
                                  + "quoted as they are.\n\n> Alice's cat is called Miso.\n  (memories/3)\n"
                                  + "> Miso is afraid of the vacuum cleaner.\n  (memories/3)";
        assertThat(SpokenReply.of(extractive))
                .containsExactly("Alice's cat is called Miso.", "Miso is afraid of the vacuum cleaner.");
    }

    @Test
    void aLongAnswerIsSpokenAsItsFirstSentences() {
        final String longAnswer = "The short version is yes. It works on every machine we tried. There are three "
                                  + "caveats. The first is memory. The second is disk. The third is time.";
        assertThat(SpokenReply.of(longAnswer))
                .containsExactly("The short version is yes.", "It works on every machine we tried.",
                                 "There are three caveats.");
        final String wordy = "This first sentence is deliberately very long so that it alone goes well past the "
                             + "word budget of a spoken summary, which is thirty words, by running on and on. "
                             + "So this one is not said.";
        assertThat(SpokenReply.of(wordy)).hasSize(1).first().asString().startsWith("This first sentence");
    }

    @Test
    void sentencesSplitAtTheirEndsNotAtAbbreviationsOrNumbers() {
        assertThat(SpokenReply.sentences("It costs 3.50 euros, e.g. a coffee. Is that fine? Yes!"))
                .containsExactly("It costs 3.50 euros, e.g. a coffee.", "Is that fine?", "Yes!");
    }

    @Test
    void nothingSayableIsNothing() {
        assertThat(SpokenReply.of("(memories/1)\n\n```\ncode\n```")).isEmpty();
        assertThat(SpokenReply.of("")).isEmpty();
    }
}
