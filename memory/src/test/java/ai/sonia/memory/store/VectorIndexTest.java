package ai.sonia.memory.store;

import ai.sonia.memory.domain.MemoryIndex;
import ai.sonia.memory.domain.VectorIndex;

/** The in-process index (the default, {@code services.memory.search.engine: lucene}) passes the contract. */
class VectorIndexTest extends MemoryIndexContract {

    @Override
    MemoryIndex newIndex() {
        return new VectorIndex(DIMS, 20_000);
    }
}
