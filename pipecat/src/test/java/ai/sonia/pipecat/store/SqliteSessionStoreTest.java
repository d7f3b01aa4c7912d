package ai.sonia.pipecat.store;

import java.nio.file.Files;
import java.nio.file.Path;

import ai.sonia.pipecat.domain.SessionStore;

class SqliteSessionStoreTest extends SessionStoreContract {

    @Override
    protected SessionStore newStore() throws Exception {
        Files.createDirectories(Path.of("target"));
        return SqliteSessionStore.open(Files.createTempDirectory(Path.of("target"), "session-store-"));
    }
}
