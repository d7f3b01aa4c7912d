package ai.sonia.codegen;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.sonia.openclaw.v1.FileReadArguments;
import ai.sonia.openclaw.v1.HttpFetchArguments;
import ai.sonia.openclaw.v1.ShellRunArguments;

class JsonSchemasTest {

    @Test
    void toolSchemasCarryTypesRequiredFieldsDocsAndBounds() {
        final ObjectNode schema = JsonSchemas.toolParameters(ShellRunArguments.getDescriptor());
        assertThat(schema.get("type").asText()).isEqualTo("object");
        assertThat(schema.get("additionalProperties").asBoolean()).isFalse();
        assertThat(schema.get("required").toString()).isEqualTo("[\"argv\"]");
        assertThat(schema.at("/properties/argv/type").asText()).isEqualTo("array");
        assertThat(schema.at("/properties/argv/items/type").asText()).isEqualTo("string");
        assertThat(schema.at("/properties/argv/maxItems").asInt()).isEqualTo(256);
        assertThat(schema.at("/properties/timeout_seconds/minimum").asInt()).isEqualTo(1);
        assertThat(schema.at("/properties/timeout_seconds/maximum").asInt()).isEqualTo(300);
        assertThat(schema.at("/properties/stdin/maxLength").asInt()).isEqualTo(65536);
        assertThat(schema.at("/properties/argv/description").asText()).contains("No shell expansion");
    }

    @Test
    void int64AndMapsFollowProtoJson() {
        final ObjectNode read = JsonSchemas.toolParameters(FileReadArguments.getDescriptor());
        assertThat(read.at("/properties/offset/type").toString()).isEqualTo("[\"integer\",\"string\"]");
        final ObjectNode fetch = JsonSchemas.toolParameters(HttpFetchArguments.getDescriptor());
        assertThat(fetch.at("/properties/headers/type").asText()).isEqualTo("object");
        assertThat(fetch.at("/properties/headers/additionalProperties/type").asText()).isEqualTo("string");
    }

    @Test
    void generationIsDeterministic() {
        assertThat(ContractDocs.render()).isEqualTo(ContractDocs.render());
    }

    @Test
    void theCatalogHasThirteenTools() {
        assertThat(ToolCatalog.tools()).hasSize(13);
    }

    @Test
    void theEnvelopeSchemaListsEveryErrorCode() {
        final ObjectNode schema = EnvelopeSchema.schema();
        assertThat(schema.at("/$defs/sonia.common.v1.EnvelopeError/properties/code/enum")).hasSize(13);
        assertThat(schema.at("/properties/duration_ms/type").asText()).isEqualTo("number");
    }
}
