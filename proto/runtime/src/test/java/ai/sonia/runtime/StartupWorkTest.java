package ai.sonia.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Background work begins at once, or after the last start of several services in this JVM is over. */
class StartupWorkTest {

    @Test
    void workWaitsForTheLastStartUnderWayAndRunsAtOnceOtherwise() {
        final List<String> ran = new ArrayList<>();
        StartupWork.afterStart(() -> ran.add("alone"));
        assertThat(ran).containsExactly("alone");

        StartupWork.hold();
        StartupWork.hold();
        StartupWork.afterStart(() -> ran.add("model"));
        assertThat(ran).containsExactly("alone");
        StartupWork.release();
        assertThat(ran).containsExactly("alone");
        StartupWork.release();
        assertThat(ran).containsExactly("alone", "model");
        StartupWork.hold(); // nothing held any more: runs nothing twice
        StartupWork.release();
        assertThat(ran).containsExactly("alone", "model");
    }
}
