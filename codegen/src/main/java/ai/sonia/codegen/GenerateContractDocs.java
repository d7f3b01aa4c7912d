package ai.sonia.codegen;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/** Writes the generated documents under the repository root given as the first argument. */
public final class GenerateContractDocs {

    public static void main(String[] args) throws IOException {
        final Path root = Path.of(args.length > 0 ? args[0] : ".").toAbsolutePath().normalize();
        final Map<String, String> files = ContractDocs.render();
        // Remove generated files that no longer exist in the contract (a removed tool, say).
        final Path generated = root.resolve("docs/contract");
        if (Files.isDirectory(generated)) {
            try (var paths = Files.walk(generated)) {
                for (Path p : paths.filter(Files::isRegularFile).toList()) {
                    if (!files.containsKey(root.relativize(p).toString().replace('\\', '/'))) {
                        Files.delete(p);
                    }
                }
            }
        }
        for (Map.Entry<String, String> file : files.entrySet()) {
            final Path path = root.resolve(file.getKey());
            Files.createDirectories(path.getParent());
            Files.writeString(path, file.getValue(), StandardCharsets.UTF_8);
        }
        System.out.println("Wrote " + files.size() + " files under " + root);
    }

    private GenerateContractDocs() {}
}
