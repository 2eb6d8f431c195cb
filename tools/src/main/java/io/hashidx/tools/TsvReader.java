package io.hashidx.tools;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/**
 * Reads {@code key<TAB>value} lines as bytes: lines end at LF (a CR before it is dropped), the first
 * TAB splits key from value, and the bytes between are taken as they are. UTF-8 never uses the bytes
 * of TAB, CR or LF inside a multi-byte character, so splitting bytes is splitting characters, and
 * widths measured here are the UTF-8 byte lengths the index stores.
 */
final class TsvReader implements Closeable {
    private static final byte TAB = '\t';

    private final InputStream in;
    private final byte[] buffer = new byte[1 << 16];
    private int position;
    private int limit;
    private boolean endOfInput;
    private long bytesConsumed;
    private long lineNumber;
    private byte[] line = new byte[256];
    private int lineLength;
    private int tab;

    TsvReader(InputStream in) {
        this.in = in;
    }

    /** Advances to the next line (empty lines included); false at the end of the input. */
    boolean next() throws IOException {
        lineLength = 0;
        boolean sawAny = false;
        while (true) {
            if (position == limit) {
                if (endOfInput || !fill()) {
                    if (!sawAny) {
                        return false;
                    }
                    break;
                }
            }
            sawAny = true;
            int start = position;
            int end = start;
            while (end < limit && buffer[end] != '\n') {
                end++;
            }
            append(start, end);
            if (end < limit) {
                position = end + 1;
                bytesConsumed += end + 1 - start;
                break;
            }
            position = end;
            bytesConsumed += end - start;
        }
        if (lineLength > 0 && line[lineLength - 1] == '\r') {
            lineLength--;
        }
        lineNumber++;
        tab = -1;
        for (int i = 0; i < lineLength; i++) {
            if (line[i] == TAB) {
                tab = i;
                break;
            }
        }
        return true;
    }

    /** 1-based number of the current line. */
    long lineNumber() {
        return lineNumber;
    }

    /** Bytes of input consumed so far, line ends included. */
    long bytesConsumed() {
        return bytesConsumed;
    }

    boolean isEmpty() {
        return lineLength == 0;
    }

    boolean hasTab() {
        return tab >= 0;
    }

    /** Length of the key in bytes; only when {@link #hasTab()}. */
    int keyLength() {
        return tab;
    }

    /** Length of the value in bytes; only when {@link #hasTab()}. */
    int valueLength() {
        return lineLength - tab - 1;
    }

    /** The bytes before the first tab, as they are in the input; only when {@link #hasTab()}. */
    byte[] rawKey() {
        return Arrays.copyOfRange(line, 0, tab);
    }

    /** The bytes after the first tab, as they are in the input; only when {@link #hasTab()}. */
    byte[] rawValue() {
        return Arrays.copyOfRange(line, tab + 1, lineLength);
    }

    /** The whole line without its line end. */
    byte[] line() {
        return Arrays.copyOf(line, lineLength);
    }

    private boolean fill() throws IOException {
        int n = in.read(buffer, 0, buffer.length);
        if (n <= 0) {
            endOfInput = true;
            position = limit = 0;
            return false;
        }
        position = 0;
        limit = n;
        return true;
    }

    private void append(int start, int end) {
        int n = end - start;
        if (lineLength + n > line.length) {
            line = Arrays.copyOf(line, Math.max(line.length * 2, lineLength + n));
        }
        System.arraycopy(buffer, start, line, lineLength, n);
        lineLength += n;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
