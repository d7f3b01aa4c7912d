package ai.sonia.codegen;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import ai.sonia.runtime.ServiceSpec;
import ai.sonia.runtime.Stack;

/** Every generated document, by path relative to the repository root. */
public final class ContractDocs {

    private static final ObjectMapper mapper = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static Map<String, String> render() {
        final Map<String, String> files = new LinkedHashMap<>();
        files.put("docs/boot-contract.md", BootContractTable.markdown());
        files.put("docs/contract/envelope.schema.json", json(EnvelopeSchema.schema()));
        for (ToolCatalog.Entry tool : ToolCatalog.tools()) {
            final var schema = JsonSchemas.toolParameters(tool.arguments());
            files.put("docs/contract/tools/" + tool.contract().getName() + ".schema.json", json(schema));
        }
        for (ServiceSpec spec : Stack.SERVICES) {
            files.put("docs/contract/openapi/" + spec.name() + ".openapi.json", json(OpenApi.of(spec)));
        }
        return files;
    }

    private static String json(JsonNode node) {
        try {
            return mapper.writeValueAsString(node).replace("\r\n", "\n") + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private ContractDocs() {}
}
