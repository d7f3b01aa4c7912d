package ai.sonia.openclaw.catalog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;

import ai.sonia.memory.v1.MemoryServiceGrpc;
import ai.sonia.openclaw.sandbox.CommandPolicy;
import ai.sonia.openclaw.sandbox.HostPolicy;
import ai.sonia.openclaw.sandbox.HttpFetcher;
import ai.sonia.openclaw.sandbox.Jail;
import ai.sonia.openclaw.sandbox.ProcessRunner;
import ai.sonia.openclaw.sandbox.SandboxLimits;
import ai.sonia.openclaw.sandbox.WorkspaceQuota;
import ai.sonia.openclaw.tools.StandardTools;
import ai.sonia.openclaw.v1.FileReadArguments;
import ai.sonia.openclaw.v1.ShellRunArguments;
import ai.sonia.openclaw.v1.Tool;
import ai.sonia.runtime.errors.DomainException;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;

class ToolCatalogTest {

    @Test
    void catalogHasTheThirteenStandardToolsWithGeneratedSchemas() {
        final ToolCatalog catalog = ToolCatalog.standard();
        assertThat(catalog.tools()).extracting(Tool::getName).containsExactly(
                "calc.eval", "file.delete", "file.list", "file.read", "file.search", "file.write", "http.fetch",
                "memory.search", "memory.store", "process.list", "shell.run", "system.info", "time.now");
        assertThat(catalog.tools()).allSatisfy(t -> {
            assertThat(t.getInputSchema().getFieldsOrThrow("type").getStringValue()).isEqualTo("object");
            assertThat(t.getInputSchema().getFieldsOrThrow("additionalProperties").getBoolValue()).isFalse();
            assertThat(t.getDescription()).isNotEmpty();
        });
        final Tool http = catalog.find("http.fetch").orElseThrow();
        assertThat(http.getHints().getOpenWorld()).isTrue();
        assertThat(http.getRisk().name()).isEqualTo("RISK_LEVEL_MEDIUM");
    }

    @Test
    void everyToolOfTheContractHasAnImplementation() {
        final ManagedChannel unused = ManagedChannelBuilder.forTarget("127.0.0.1:1").usePlaintext()
                                                                           .build();
        try (ProcessRunner runner = new ProcessRunner(new Jail(Jail.Mode.NONE, null),
                                                      SandboxLimits.defaults())) {
            final StandardTools tools = new StandardTools(
                    CommandPolicy.defaults(), runner,
                    new HttpFetcher(new HostPolicy(List.of()), 1, Duration.ofSeconds(1)),
                    MemoryServiceGrpc.newBlockingStub(unused), new WorkspaceQuota(WorkspaceQuota.DEFAULT_BYTES));
            assertThat(tools.names()).containsExactlyInAnyOrderElementsOf(
                    ToolCatalog.standard().tools().stream().map(Tool::getName).toList());
            assertThat(ToolCatalog.standard().tools()).allSatisfy(t -> assertThat(
                    tools.find(t.getName()).orElseThrow().prototype().getDescriptorForType().getFullName())
                    .isEqualTo(t.getArgumentType()));
        } finally {
            unused.shutdownNow();
        }
    }

    @Test
    void schemaCarriesTypesRequiredDescriptionsAndBounds() throws Exception {
        final Struct schema = ToolCatalog.standard().find("shell.run").orElseThrow().getInputSchema();
        final String json = JsonFormat.printer().print(schema);
        assertThat(schema.getFieldsOrThrow("title").getStringValue()).isEqualTo("shell.run");
        assertThat(schema.getFieldsOrThrow("required").getListValue().getValuesList())
                .extracting(Value::getStringValue).containsExactly("argv");
        final Struct properties = schema.getFieldsOrThrow("properties").getStructValue();
        final Struct argv = properties.getFieldsOrThrow("argv").getStructValue();
        assertThat(argv.getFieldsOrThrow("type").getStringValue()).isEqualTo("array");
        assertThat(argv.getFieldsOrThrow("items").getStructValue().getFieldsOrThrow("type").getStringValue())
                .isEqualTo("string");
        assertThat(argv.getFieldsOrThrow("maxItems").getNumberValue()).isEqualTo(256);
        final Struct timeout = properties.getFieldsOrThrow("timeout_seconds").getStructValue();
        assertThat(timeout.getFieldsOrThrow("type").getStringValue()).isEqualTo("integer");
        assertThat(timeout.getFieldsOrThrow("minimum").getNumberValue()).isEqualTo(1);
        assertThat(timeout.getFieldsOrThrow("maximum").getNumberValue()).isEqualTo(300);
        assertThat(timeout.getFieldsOrThrow("description").getStringValue()).contains("process group");
        assertThat(json).contains("\"maxLength\": 65536.0");
    }

    @Test
    void generationIsDeterministic() throws Exception {
        final String first = JsonFormat.printer().print(ToolCatalog.standard().find("file.read").orElseThrow().getInputSchema());
        for (int i = 0; i < 20; i++) {
            assertThat(JsonFormat.printer().print(ToolCatalog.standard().find("file.read").orElseThrow().getInputSchema()))
                    .isEqualTo(first);
        }
    }

    @Test
    void argumentsAreCheckedAgainstTheSameContract() throws Exception {
        assertThatThrownBy(() -> ToolArguments.parse(json("{}"), FileReadArguments.getDefaultInstance()))
                .isInstanceOfSatisfying(DomainException.class,
                                        e -> assertThat(e.field()).isEqualTo("arguments.path"));
        assertThatThrownBy(() -> ToolArguments.parse(json("{\"path\":\"a\",\"evil\":1}"),
                                                     FileReadArguments.getDefaultInstance()))
                .isInstanceOfSatisfying(DomainException.class, e -> {
                    assertThat(e.field()).isEqualTo("arguments.evil");
                    assertThat(e.getMessage()).contains("not an argument of file.read; expected {\"path\": string (required)");
                });
        assertThatThrownBy(() -> ToolArguments.parse(json("{\"path\":\"a\",\"max_bytes\":0.5}"),
                                                     FileReadArguments.getDefaultInstance()))
                .isInstanceOf(DomainException.class);
        assertThatThrownBy(() -> ToolArguments.parse(json("{\"argv\":[\"sleep\",\"1\"],\"timeout_seconds\":301}"),
                                                     ShellRunArguments.getDefaultInstance()))
                .isInstanceOfSatisfying(DomainException.class,
                                        e -> assertThat(e.field()).isEqualTo("arguments.timeout_seconds"));
        assertThat(ToolArguments.parse(json("{\"argv\":[\"ls\"],\"timeout_seconds\":5}"),
                                       ShellRunArguments.getDefaultInstance()).getTimeoutSeconds()).isEqualTo(5);
    }

    static Struct json(String text) throws Exception {
        final Struct.Builder b = Struct.newBuilder();
        JsonFormat.parser().merge(text, b);
        return b.build();
    }
}
