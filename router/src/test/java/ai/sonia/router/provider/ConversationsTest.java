package ai.sonia.router.provider;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import ai.sonia.router.domain.ProviderFailure;
import ai.sonia.router.v1.FinishReason;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.TokenUsage;

class ConversationsTest {

    @Test
    void finishReasonsBecomeTheContractsEnumAndAFilteredAnswerIsARefusal() {
        assertThat(Conversations.toCompletion(answer(dev.langchain4j.model.output.FinishReason.LENGTH), "m")
                                .finishReason()).isEqualTo(FinishReason.FINISH_REASON_LENGTH);
        assertThat(Conversations.toCompletion(answer(null), "m").finishReason())
                .isEqualTo(FinishReason.FINISH_REASON_STOP);
        assertThatThrownBy(() -> Conversations.toCompletion(
                answer(dev.langchain4j.model.output.FinishReason.CONTENT_FILTER), "m"))
                .isInstanceOfSatisfying(ProviderFailure.class,
                                        f -> assertThat(f.kind()).isEqualTo(ProviderFailure.Kind.REFUSED));
    }

    private static ChatResponse answer(dev.langchain4j.model.output.FinishReason reason) {
        return ChatResponse.builder().aiMessage(AiMessage.from("text")).finishReason(reason)
                           .tokenUsage(new TokenUsage(1, 1)).build();
    }
}
