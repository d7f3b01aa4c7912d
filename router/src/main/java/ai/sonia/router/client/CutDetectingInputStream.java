package ai.sonia.router.client;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

import javax.annotation.Nullable;

/**
 * Remembers an IOException raised while reading a response body: LangChain4j's stream parsers stop
 * quietly on one, which would turn a cut stream into a silently truncated answer.
 */
final class CutDetectingInputStream extends FilterInputStream {

    @Nullable
    private volatile IOException cut;

    CutDetectingInputStream(InputStream in) {
        super(in);
    }

    @Nullable
    IOException cut() {
        return cut;
    }

    @Override
    public int read() throws IOException {
        try {
            return super.read();
        } catch (IOException e) {
            cut = e;
            throw e;
        }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        try {
            return super.read(b, off, len);
        } catch (IOException e) {
            cut = e;
            throw e;
        }
    }
}
