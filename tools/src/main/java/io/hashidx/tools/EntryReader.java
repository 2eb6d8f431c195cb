package io.hashidx.tools;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Reads the entries of one {@code load} input, record by record, in one of the {@link EntryFormat}s.
 * Empty lines are skipped. A record that cannot be an entry is not an error here: {@link #problem()}
 * says what is wrong with it, and the caller counts or reports it.
 */
abstract class EntryReader implements Closeable {
    private byte[] keyArray;
    private int keyOffset;
    private int keyLength;
    private byte[] valueArray;
    private int valueOffset;
    private int valueLength;
    private String problem;

    /** Advances to the next record; false at the end of the input. */
    abstract boolean next() throws IOException;

    /** 1-based line number where the current record starts. */
    abstract long lineNumber();

    /** Bytes of input read so far (for progress). */
    abstract long bytesConsumed();

    /** Why the current record is not an entry, or null when it is one. */
    final String problem() {
        return problem;
    }

    /** The key as an array of its own (a copy when the reader holds it in a shared buffer). */
    final byte[] key() {
        return own(keyArray, keyOffset, keyLength);
    }

    /** The value as an array of its own (a copy when the reader holds it in a shared buffer). */
    final byte[] value() {
        return own(valueArray, valueOffset, valueLength);
    }

    private static byte[] own(byte[] a, int offset, int length) {
        return offset == 0 && length == a.length ? a : Arrays.copyOfRange(a, offset, offset + length);
    }

    /**
     * The key without a copy: {@link #keyLength()} bytes of this array from {@link #keyOffset()},
     * valid until the next {@link #next()}.
     */
    final byte[] keyArray() {
        return keyArray;
    }

    final int keyOffset() {
        return keyOffset;
    }

    final int keyLength() {
        return keyLength;
    }

    /** The value without a copy, as {@link #keyArray()}. */
    final byte[] valueArray() {
        return valueArray;
    }

    final int valueOffset() {
        return valueOffset;
    }

    final int valueLength() {
        return valueLength;
    }

    final void entry(byte[] k, byte[] v) {
        entry(k, 0, k.length, v, 0, v.length);
    }

    final void entry(byte[] k, int kOffset, int kLength, byte[] v, int vOffset, int vLength) {
        keyArray = k;
        keyOffset = kOffset;
        keyLength = kLength;
        valueArray = v;
        valueOffset = vOffset;
        valueLength = vLength;
        problem = null;
    }

    final void bad(String why) {
        keyArray = null;
        valueArray = null;
        problem = why;
    }

    static EntryReader open(InputStream in, EntryFormat format, boolean hex, String keyColumn, String valueColumn)
            throws IOException {
        return switch (format) {
            case tsv -> new Tsv(in, hex);
            case jsonl -> new Jsonl(in);
            case csv -> new Csv(in, keyColumn, valueColumn);
        };
    }

    /**
     * key<TAB>value lines with {@link TsvEscapes}, or hex with {@code --hex}. A field without a
     * backslash is handed over as a slice of the reader's buffer; one with escapes is unescaped into
     * a buffer reused from line to line, so no line allocates.
     */
    private static final class Tsv extends EntryReader {
        private final TsvReader r;
        private final boolean hex;
        private byte[] unescaped = new byte[256];

        Tsv(InputStream in, boolean hex) {
            this.r = new TsvReader(in);
            this.hex = hex;
        }

        @Override
        boolean next() throws IOException {
            do {
                if (!r.next()) {
                    return false;
                }
            } while (r.isEmpty());
            if (!r.hasTab()) {
                bad("no tab between key and value");
                return true;
            }
            if (hex) {
                try {
                    entry(decode(r.rawKey(), "key"), decode(r.rawValue(), "value"));
                } catch (IllegalArgumentException e) {
                    bad(e.getMessage());
                }
                return true;
            }
            byte[] line = r.buffer();
            int keyStart = r.lineStart();
            int keyEnd = keyStart + r.keyLength();
            int valueStart = r.valueStart();
            int valueEnd = r.lineEnd();
            boolean keyEscaped = TsvReader.indexOf(line, keyStart, keyEnd, '\\') >= 0;
            boolean valueEscaped = TsvReader.indexOf(line, valueStart, valueEnd, '\\') >= 0;
            if (!keyEscaped && !valueEscaped) {
                entry(line, keyStart, keyEnd - keyStart, line, valueStart, valueEnd - valueStart);
                return true;
            }
            if (unescaped.length < valueEnd - keyStart) {
                unescaped = new byte[Math.max(2 * unescaped.length, valueEnd - keyStart)];
            }
            try {
                int keyLength = unescapeField(line, keyStart, keyEnd, 0, "key");
                int valueLength = unescapeField(line, valueStart, valueEnd, keyLength, "value");
                entry(unescaped, 0, keyLength, unescaped, keyLength, valueLength);
            } catch (IllegalArgumentException e) {
                bad(e.getMessage());
            }
            return true;
        }

        /** Unescapes {@code line[from, to)} into {@link #unescaped} at {@code at}; returns its length. */
        private int unescapeField(byte[] line, int from, int to, int at, String what) {
            try {
                return TsvEscapes.unescapeInto(line, from, to, unescaped, at);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(what + ": " + e.getMessage());
            }
        }

        private byte[] decode(byte[] raw, String what) {
            try {
                return HexFormat.of().parseHex(new String(raw, UTF_8));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(what + " is not a hex string (--hex)");
            }
        }

        @Override
        long lineNumber() {
            return r.lineNumber();
        }

        @Override
        long bytesConsumed() {
            return r.bytesConsumed();
        }

        @Override
        public void close() throws IOException {
            r.close();
        }
    }

    /** One JSON object per line ({@link JsonLines}). */
    private static final class Jsonl extends EntryReader {
        private final TsvReader r;

        Jsonl(InputStream in) {
            this.r = new TsvReader(in);
        }

        @Override
        boolean next() throws IOException {
            do {
                if (!r.next()) {
                    return false;
                }
            } while (r.isEmpty());
            byte[] line = r.line();
            if (!TsvEscapes.isUtf8(line)) {
                bad("the line is not valid UTF-8");
                return true;
            }
            try {
                byte[][] kv = JsonLines.parse(new String(line, UTF_8));
                entry(kv[0], kv[1]);
            } catch (IllegalArgumentException e) {
                bad(e.getMessage());
            }
            return true;
        }

        @Override
        long lineNumber() {
            return r.lineNumber();
        }

        @Override
        long bytesConsumed() {
            return r.bytesConsumed();
        }

        @Override
        public void close() throws IOException {
            r.close();
        }
    }

    /**
     * RFC 4180 CSV in UTF-8 through commons-csv; the columns are 1-based indexes, or header names (then
     * the first record is the header).
     */
    private static final class Csv extends EntryReader {
        private final CountingStream counted;
        private final CSVParser parser;
        private final Iterator<CSVRecord> records;
        private final int keyIndex;
        private final int valueIndex;
        private long line;

        Csv(InputStream in, String keyColumn, String valueColumn) throws IOException {
            this.counted = new CountingStream(in);
            boolean byName = !isIndex(keyColumn) || !isIndex(valueColumn);
            CSVFormat.Builder format = CSVFormat.RFC4180.builder().setIgnoreEmptyLines(true);
            if (byName) {
                format.setHeader().setSkipHeaderRecord(true);
            }
            this.parser = CSVParser.builder().setReader(new InputStreamReader(counted, UTF_8))
                    .setFormat(format.get()).get();
            this.records = parser.iterator();
            if (byName) {
                Map<String, Integer> header = parser.getHeaderMap();
                keyIndex = column(header, keyColumn);
                valueIndex = column(header, valueColumn);
            } else {
                keyIndex = Integer.parseInt(keyColumn) - 1;
                valueIndex = Integer.parseInt(valueColumn) - 1;
            }
        }

        static boolean isIndex(String column) {
            return column.matches("[1-9][0-9]{0,8}");
        }

        private static int column(Map<String, Integer> header, String column) {
            if (isIndex(column)) {
                return Integer.parseInt(column) - 1;
            }
            Integer i = header == null ? null : header.get(column);
            if (i == null) {
                throw new InputDataException("no column \"" + column + "\" in the CSV header "
                        + (header == null ? "(the input is empty)" : header.keySet()));
            }
            return i;
        }

        @Override
        boolean next() {
            CSVRecord r;
            try {
                if (!records.hasNext()) {
                    return false;
                }
                r = records.next();
            } catch (java.io.UncheckedIOException | IllegalStateException e) {
                throw new InputDataException("malformed CSV after line " + parser.getCurrentLineNumber() + ": "
                        + e.getMessage(), e);
            }
            line = parser.getCurrentLineNumber();
            int needed = Math.max(keyIndex, valueIndex) + 1;
            if (r.size() < needed) {
                bad("the record has " + r.size() + " columns, fewer than " + needed);
            } else {
                entry(r.get(keyIndex).getBytes(UTF_8), r.get(valueIndex).getBytes(UTF_8));
            }
            return true;
        }

        @Override
        long lineNumber() {
            return line;
        }

        @Override
        long bytesConsumed() {
            return counted.count;
        }

        @Override
        public void close() throws IOException {
            parser.close();
        }
    }

    private static final class CountingStream extends FilterInputStream {
        long count;

        CountingStream(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }
}
