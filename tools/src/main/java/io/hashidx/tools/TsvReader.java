package io.hashidx.tools;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * Reads {@code key<TAB>value} lines as bytes: lines end at LF (a CR before it is dropped), the first
 * TAB splits key from value, and the bytes between are taken as they are. UTF-8 never uses the bytes
 * of TAB, CR or LF inside a multi-byte character, so splitting bytes is splitting characters, and
 * widths measured here are the UTF-8 byte lengths the index stores.
 *
 * <p>A line is never copied: it stays in the read buffer, which {@link #buffer()} exposes with the
 * line's offsets until the next {@link #next()}. A line cut by the end of the buffer is moved to its
 * start before the next read (the buffer doubles for a line longer than itself). Line ends and tabs
 * are found eight bytes at a time.
 */
final class TsvReader implements Closeable {
    private static final char TAB = '\t';
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long ONES = 0x0101010101010101L;
    private static final long LOW7 = 0x7f7f7f7f7f7f7f7fL;

    private final InputStream in;
    private byte[] buffer;
    /** Where the next line starts. */
    private int position;
    /** End of the bytes read into the buffer. */
    private int limit;
    private boolean endOfInput;
    private long bytesConsumed;
    private long lineNumber;
    private int lineStart;
    private int lineEnd;
    private int tab;

    TsvReader(InputStream in) {
        this(in, 1 << 16);
    }

    /** With a first buffer of {@code bufferBytes} (tests use small ones to cut lines at its end). */
    TsvReader(InputStream in, int bufferBytes) {
        this.in = in;
        this.buffer = new byte[Math.max(16, bufferBytes)];
    }

    /** Advances to the next line (empty lines included); false at the end of the input. */
    boolean next() throws IOException {
        int from = position;
        int scanned = position;
        int end;
        while (true) {
            end = indexOf(buffer, scanned, limit, '\n');
            if (end >= 0) {
                position = end + 1;
                bytesConsumed += position - from;
                break;
            }
            scanned = limit;
            if (!endOfInput) {
                // fill() moves the unfinished line to the start of the buffer
                boolean more = fill(from);
                scanned -= from;
                from = 0;
                if (more) {
                    continue;
                }
            }
            if (limit == from) {
                return false;
            }
            // the last line has no line feed
            end = limit;
            position = limit;
            bytesConsumed += limit - from;
            break;
        }
        lineStart = from;
        lineEnd = end > from && buffer[end - 1] == '\r' ? end - 1 : end;
        lineNumber++;
        int t = indexOf(buffer, lineStart, lineEnd, TAB);
        tab = t < 0 ? -1 : t - lineStart;
        return true;
    }

    /**
     * Index of the first {@code b} in {@code a[from, to)}, or -1; eight bytes at a time: a byte of
     * {@code x = word ^ (b * 0x0101...)} is zero exactly where {@code b} is, and
     * {@code ~(((x & 0x7f..) + 0x7f..) | x | 0x7f..)} sets the high bit of exactly the zero bytes.
     */
    static int indexOf(byte[] a, int from, int to, char b) {
        long pattern = ONES * b;
        int i = from;
        for (; i + 8 <= to; i += 8) {
            long x = (long) LONGS.get(a, i) ^ pattern;
            long zero = ~(((x & LOW7) + LOW7) | x | LOW7);
            if (zero != 0) {
                return i + (Long.numberOfTrailingZeros(zero) >>> 3);
            }
        }
        for (; i < to; i++) {
            if (a[i] == b) {
                return i;
            }
        }
        return -1;
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
        return lineEnd == lineStart;
    }

    boolean hasTab() {
        return tab >= 0;
    }

    /** The buffer holding the current line, at {@link #lineStart()}; valid until the next {@link #next()}. */
    byte[] buffer() {
        return buffer;
    }

    /** Where the current line starts in {@link #buffer()}. */
    int lineStart() {
        return lineStart;
    }

    /** Where the current line ends in {@link #buffer()}, without its line end. */
    int lineEnd() {
        return lineEnd;
    }

    /** Length of the key in bytes; only when {@link #hasTab()}. */
    int keyLength() {
        return tab;
    }

    /** Length of the value in bytes; only when {@link #hasTab()}. */
    int valueLength() {
        return lineEnd - lineStart - tab - 1;
    }

    /** Where the value starts in {@link #buffer()}; only when {@link #hasTab()}. */
    int valueStart() {
        return lineStart + tab + 1;
    }

    /** The bytes before the first tab, as they are in the input; only when {@link #hasTab()}. */
    byte[] rawKey() {
        return Arrays.copyOfRange(buffer, lineStart, lineStart + tab);
    }

    /** The bytes after the first tab, as they are in the input; only when {@link #hasTab()}. */
    byte[] rawValue() {
        return Arrays.copyOfRange(buffer, valueStart(), lineEnd);
    }

    /** The whole line without its line end. */
    byte[] line() {
        return Arrays.copyOfRange(buffer, lineStart, lineEnd);
    }

    /**
     * Moves the unfinished line that starts at {@code from} to the start of the buffer (doubling the
     * buffer when the line fills it) and reads more after it; false at the end of the input.
     */
    private boolean fill(int from) throws IOException {
        int kept = limit - from;
        if (kept == buffer.length) {
            buffer = Arrays.copyOf(buffer, buffer.length * 2);
        } else if (from > 0) {
            System.arraycopy(buffer, from, buffer, 0, kept);
        }
        position = 0;
        limit = kept;
        int n = in.read(buffer, kept, buffer.length - kept);
        if (n <= 0) {
            endOfInput = true;
            return false;
        }
        limit += n;
        return true;
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
