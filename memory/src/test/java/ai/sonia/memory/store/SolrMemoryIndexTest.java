package ai.sonia.memory.store;

import ai.sonia.memory.domain.MemoryIndex;

/** The SolrCloud index ({@code services.memory.search.engine: solr}) passes the contract, on a real SolrCloud. */
class SolrMemoryIndexTest extends MemoryIndexContract {

    // One collection for the class: each test's reload empties it.
    private static String collection;

    @Override
    MemoryIndex newIndex() {
        final SolrTestCloud cloud = SolrTestCloud.get();
        if (collection == null) {
            collection = cloud.newCollection("index");
        }
        return SolrMemoryIndex.connect(cloud.config(collection), DIMS);
    }
}
