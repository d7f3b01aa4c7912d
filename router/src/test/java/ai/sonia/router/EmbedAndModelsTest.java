package ai.sonia.router;

import static ai.sonia.runtime.testing.StatusDetails.badRequest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import ai.sonia.router.FakeProvider.Dialect;
import ai.sonia.router.v1.EmbedRequest;
import ai.sonia.router.v1.EmbedResponse;
import ai.sonia.router.v1.ListModelsRequest;
import ai.sonia.router.v1.ListModelsResponse;
import ai.sonia.router.v1.Model;
import ai.sonia.runtime.Shared;
import ai.sonia.runtime.embedding.BgeSmallEncoder;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.onnx.bgesmallenv15q.BgeSmallEnV15QuantizedEmbeddingModel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

class EmbedAndModelsTest {

    private static FakeProvider ollama;
    private static RouterFixture router;

    @BeforeAll
    static void start() throws Exception {
        Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir")));
        ollama = new FakeProvider(Dialect.OLLAMA, "hi");
        ollama.tags(List.of("llama3.2:latest", "qwen2.5:0.5b"));
        router = new RouterFixture(
                "{\"deployments\":[{\"name\":\"local\",\"provider\":\"ollama\",\"model\":\"llama3.2\"},"
                + "{\"name\":\"extractive\",\"provider\":\"extractive\"}],"
                + "\"aliases\":{\"default\":[\"local\",\"extractive\"]}}",
                Map.of("OLLAMA_BASE_URL", ollama.baseUrl()));
    }

    @AfterAll
    static void stop() {
        router.close();
        ollama.close();
    }

    @Test
    void defaultEmbeddingsComeFromTheBundledOfflineModel() {
        final EmbedResponse response = router.stub.embed(EmbedRequest.newBuilder()
                .addInputs("The cat sleeps on the sofa.")
                .addInputs("A kitten is napping on the couch.")
                .addInputs("Quarterly revenue grew by eight percent.").build());
        // One name for the model in router and memory (the router said "bge-small-en-v15-q" before).
        assertThat(response.getModel()).isEqualTo("bge-small-en-v1.5-q");
        assertThat(response.getDimensions()).isEqualTo(384);
        assertThat(response.getEmbeddingsList()).hasSize(3).allSatisfy(e -> assertThat(e.getValuesCount()).isEqualTo(384));
        final double similar = cosine(response.getEmbeddings(0).getValuesList(), response.getEmbeddings(1).getValuesList());
        final double unrelated = cosine(response.getEmbeddings(0).getValuesList(), response.getEmbeddings(2).getValuesList());
        assertThat(similar).isGreaterThan(unrelated);
    }

    @Test
    void theBundledModelIsTheJvmsOneInstanceUnderEitherName() {
        final EmbedResponse former = router.stub.embed(EmbedRequest.newBuilder().setModel("bge-small-en-v15-q")
                                                                   .addInputs("hello").build());
        assertThat(former.getModel()).isEqualTo("bge-small-en-v1.5-q");
        final EmbedResponse current = router.stub.embed(EmbedRequest.newBuilder().setModel("bge-small-en-v1.5-q")
                                                                    .addInputs("hello").build());
        assertThat(current.getEmbeddings(0)).isEqualTo(former.getEmbeddings(0));
        // Memory, in the same JVM, gets the instance the router loaded instead of loading its own.
        assertThat(Shared.<Object>get("embedding/bge-small-en-v1.5-q", () -> {
            throw new AssertionError("the router did not share its model");
        })).isSameAs(BgeSmallEncoder.shared(0));
    }

    @Test
    void theBundledModelsVectorsAreLangChain4jsBitForBit() {
        final List<String> texts = List.of("hello", "The quick brown fox jumps over the lazy dog.",
                                           "Ünïcödé テキスト 123", "lorem ipsum dolor sit amet ".repeat(150));
        final EmbedResponse response = router.stub.embed(EmbedRequest.newBuilder().addAllInputs(texts).build());
        // The router embedded with LangChain4j's model before it shared memory's encoder: the same vectors.
        final List<Embedding> before = new BgeSmallEnV15QuantizedEmbeddingModel()
                .embedAll(texts.stream().map(TextSegment::from).toList()).content();
        for (int i = 0; i < texts.size(); i++) {
            final float[] expected = before.get(i).vector();
            final List<Float> actual = response.getEmbeddings(i).getValuesList();
            assertThat(actual).hasSize(expected.length);
            for (int d = 0; d < expected.length; d++) {
                assertThat(Float.floatToIntBits(actual.get(d))).as("text %d, dimension %d", i, d)
                                                               .isEqualTo(Float.floatToIntBits(expected[d]));
            }
        }
    }

    @Test
    void ollamaEmbeddingsWhenAskedFor() {
        final EmbedResponse response = router.stub.embed(EmbedRequest.newBuilder().setModel("ollama/nomic-embed-text")
                                                                     .addInputs("four").addInputs("sixsix").build());
        assertThat(response.getModel()).isEqualTo("ollama/nomic-embed-text");
        assertThat(response.getDimensions()).isEqualTo(3);
        assertThat(response.getEmbeddings(1).getValues(0)).isEqualTo(6f);
    }

    @Test
    void badEmbedRequestsNameTheField() {
        assertInvalid(EmbedRequest.getDefaultInstance(), "inputs");
        assertInvalid(EmbedRequest.newBuilder().addInputs("ok").addInputs("  ").build(), "inputs[1]");
        assertInvalid(EmbedRequest.newBuilder().addInputs("ok").setModel("word2vec").build(), "model");
    }

    @Test
    void modelsListsDeploymentsAndWhatOllamaReportsLive() {
        final List<Model> models = router.stub.listModels(ListModelsRequest.getDefaultInstance()).getModelsList();
        assertThat(models).extracting(Model::getName).containsExactly("local", "extractive", "ollama/qwen2.5:0.5b");
        assertThat(models.get(0).getLive()).isTrue();
        assertThat(models.get(0).getAliasesList()).containsExactly("default");
        assertThat(models.get(2).getProvider()).isEqualTo("ollama");

        final ListModelsResponse page = router.stub.listModels(ListModelsRequest.newBuilder().setPageSize(2).build());
        assertThat(page.getModelsCount()).isEqualTo(2);
        final ListModelsResponse next = router.stub.listModels(
                ListModelsRequest.newBuilder().setPageSize(2).setPageToken(page.getNextPageToken()).build());
        assertThat(next.getModelsList()).extracting(Model::getName).containsExactly("ollama/qwen2.5:0.5b");
        assertThat(next.getNextPageToken()).isEmpty();
        assertThatThrownBy(() -> router.stub.listModels(ListModelsRequest.newBuilder().setPageSize(-1).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                                        e -> assertThat(badRequest(e).getFieldViolations(0).getField()).isEqualTo("page_size"));
    }

    private static void assertInvalid(EmbedRequest request, String field) {
        assertThatThrownBy(() -> router.stub.embed(request)).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(badRequest(e).getFieldViolations(0).getField()).isEqualTo(field);
        });
    }

    private static double cosine(List<Float> a, List<Float> b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.size(); i++) {
            dot += a.get(i) * b.get(i);
            na += a.get(i) * a.get(i);
            nb += b.get(i) * b.get(i);
        }
        return dot / Math.sqrt(na * nb);
    }
}
