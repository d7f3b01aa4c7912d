package ai.sonia.router;

import static ai.sonia.router.Requests.ask;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import ai.sonia.common.v1.Role;
import ai.sonia.router.FakeProvider.Dialect;
import ai.sonia.router.v1.ChatRequest;
import ai.sonia.router.v1.ChatResponse;
import ai.sonia.router.v1.GetUsageRequest;
import ai.sonia.router.v1.RouterServiceGrpc.RouterServiceBlockingStub;
import ai.sonia.router.v1.UsageRow;

/**
 * The response cache through a real router and a provider that counts its calls: identical deterministic
 * chats of one tenant make one provider call; another tenant, another temperature or another parameter does
 * not share an answer; the second answer says it was cached and is charged nothing.
 */
class CachedChatTest {

    private static final FakeProvider ollama = new FakeProvider(Dialect.OLLAMA, "forty-two");
    private static final RouterFixture router = new RouterFixture(
            "{\"deployments\":[{\"name\":\"local\",\"provider\":\"ollama\",\"model\":\"llama3.2\",\"baseUrl\":\""
            + ollama.baseUrl() + "\"}],\"aliases\":{\"default\":[\"local\"]}}");

    @AfterAll
    static void tearDown() {
        router.close();
        ollama.close();
    }

    private static ChatRequest atZero(String text) {
        return ask("", text).toBuilder().setTemperature(0).build();
    }

    @Test
    void twoIdenticalDeterministicChatsMakeOneProviderCall() {
        final RouterServiceBlockingStub carol = router.as(router.token("initech", "carol", Role.ROLE_USER));
        final int before = ollama.requestCount();
        final ChatResponse first = carol.chat(atZero("what is the answer?"));
        final ChatResponse second = carol.chat(atZero("what is the answer?"));

        assertThat(ollama.requestCount() - before).isEqualTo(1);
        assertThat(first.getCached()).isFalse();
        assertThat(second.getCached()).isTrue();
        assertThat(second.getContent()).isEqualTo(first.getContent()).isEqualTo("forty-two");
        assertThat(second.getDeployment()).isEqualTo("local");
        assertThat(second.getProvider()).isEqualTo("ollama");
        assertThat(second.getUsage().getTotalTokens()).isZero();
        assertThat(second.getUsage().getCostMicros()).isZero();
        assertThat(second.getAttemptsList()).isEmpty();
        // Both are in the ledger; only the provider's answer has tokens.
        final UsageRow total = carol.getUsage(GetUsageRequest.getDefaultInstance()).getTotal();
        assertThat(total.getRequests()).isEqualTo(2);
        assertThat(total.getUsage().getTotalTokens()).isEqualTo(first.getUsage().getTotalTokens());
    }

    @Test
    void anotherTenantNeverGetsTheAnswer() {
        final int before = ollama.requestCount();
        final ChatResponse acme = router.as(router.token("acme", "ann", Role.ROLE_USER)).chat(atZero("shared?"));
        final ChatResponse globex = router.as(router.token("globex", "gus", Role.ROLE_USER)).chat(atZero("shared?"));

        assertThat(ollama.requestCount() - before).isEqualTo(2);
        assertThat(acme.getCached()).isFalse();
        assertThat(globex.getCached()).isFalse();
    }

    @Test
    void aTemperatureAboveZeroOrUnsetIsNeverCached() {
        final int before = ollama.requestCount();
        final ChatRequest warm = ask("", "be creative").toBuilder().setTemperature(0.7).build();
        assertThat(router.stub.chat(warm).getCached()).isFalse();
        assertThat(router.stub.chat(warm).getCached()).isFalse();
        final ChatRequest unset = ask("", "be creative");
        assertThat(router.stub.chat(unset).getCached()).isFalse();
        assertThat(router.stub.chat(unset).getCached()).isFalse();
        assertThat(ollama.requestCount() - before).isEqualTo(4);
    }

    @Test
    void anotherGenerationParameterOrContextIsAnotherAnswer() {
        final int before = ollama.requestCount();
        router.stub.chat(atZero("same words"));
        assertThat(router.stub.chat(atZero("same words").toBuilder().setMaxTokens(5).build()).getCached()).isFalse();
        assertThat(router.stub.chat(atZero("same words").toBuilder().addMessages(Requests.user("and more")).build())
                         .getCached()).isFalse();
        assertThat(ollama.requestCount() - before).isEqualTo(3);
        assertThat(router.stub.chat(atZero("same words")).getCached()).isTrue();
    }
}
