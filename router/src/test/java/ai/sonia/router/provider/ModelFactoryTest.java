package ai.sonia.router.provider;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.linecorp.armeria.client.ClientFactory;

import ai.sonia.router.client.ProviderHttpClient;
import ai.sonia.router.domain.Deployment;
import dev.langchain4j.http.client.HttpClientBuilder;

/** Every provider's two models are built the one way, from the deployment's settings (no call is made). */
class ModelFactoryTest {

    @ParameterizedTest
    @ValueSource(strings = {"OLLAMA", "ANTHROPIC", "OPEN_AI"})
    void everyProvidersModelsAreBuiltFromTheDeployment(String provider) throws Exception {
        final ModelFactory factory = (ModelFactory) ModelFactory.class.getDeclaredField(provider).get(null);
        final Deployment deployment = new Deployment("d", provider.toLowerCase(), "m", "http://127.0.0.1:9/v1", "k",
                                                     Duration.ofSeconds(3), 0, 0);
        final HttpClientBuilder http = ProviderHttpClient.builder(ClientFactory.ofDefault(), Runnable::run);
        assertThat(factory.chatModel(deployment, http)).isNotNull();
        assertThat(factory.streamingModel(deployment, http)).isNotNull();
    }
}
