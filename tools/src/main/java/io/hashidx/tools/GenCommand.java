package io.hashidx.tools;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code hashidx gen}: writes a reproducible key<TAB>value data set of any size, in constant memory. */
@Command(name = "gen", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Writes COUNT lines of key<TAB>value text to OUT ('-' for stdout), for loads and benchmarks "
                    + "of any size. The same options always give the same bytes, on any machine; the "
                    + "output is streamed, so memory stays constant however large COUNT is.",
            "",
            "Keys are K characters and values V characters of [0-9a-f] (so bytes = characters, and "
                    + "nothing needs escaping):",
            "  sequential  line i (from 0) has key i in decimal, zero-padded to K digits",
            "  uniform     line i has key number i of a pseudo-random permutation: 16 hex digits of a "
                    + "bijective 64-bit mix of i and the seed (more digits derived from those when K > 16, "
                    + "only the last K when K < 16); distinct for K >= 16, scattered over the key space",
            "  zipf        each line draws a rank r from a Zipf distribution over COUNT ranks "
                    + "(P(r) ~ 1/r^E, E = --zipf-exponent) and uses the uniform key number r - 1: few "
                    + "keys repeat very often, so the loaded index has fewer entries than lines",
            "Values are pseudo-random hex from the seed.",
            "",
            "The generator is SplitMix64 (seeded with --seed) and the permutation its finalizer; "
                    + "data-samples/README.md gives the exact recipe.",
            "",
            "Examples:",
            "  hashidx gen big.tsv --count 100000000 --key-size 16 --value-size 16 --keys uniform --seed 1",
            "  hashidx gen - --count 10 --keys sequential --key-size 8",
            "  hashidx gen hot.tsv --count 1000000 --keys zipf --zipf-exponent 1.1",
            ""},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:written",
            "2:error: usage, or OUT could not be written"})
final class GenCommand extends ToolCommand {
    /** How keys are chosen. */
    enum Keys { uniform, sequential, zipf }

    @Parameters(index = "0", paramLabel = "OUT", description = "the file to write (replaced if it exists), or - for stdout")
    String out;

    @Option(names = "--count", required = true, paramLabel = "N", description = "lines to write")
    long count;

    @Option(names = "--key-size", paramLabel = "K", defaultValue = "16",
            description = "key length in characters (default: ${DEFAULT-VALUE})")
    int keySize;

    @Option(names = "--value-size", paramLabel = "V", defaultValue = "16",
            description = "value length in characters (default: ${DEFAULT-VALUE})")
    int valueSize;

    @Option(names = "--keys", paramLabel = "KIND", defaultValue = "uniform",
            description = "uniform, sequential or zipf (default: ${DEFAULT-VALUE})")
    Keys keys;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1", converter = CreateCommand.SeedConverter.class,
            description = "seed of keys and values, decimal or 0x-hex (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--zipf-exponent", paramLabel = "E", defaultValue = "0.99",
            description = "zipf only: the exponent, > 0 (default: ${DEFAULT-VALUE}, as in YCSB)")
    double zipfExponent;

    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

    @Override
    public Integer call() {
        check();
        boolean toStdout = out.equals("-");
        long bytes;
        try (Sink sink = toStdout ? new WriterSink(out()) : new StreamSink(Files.newOutputStream(Path.of(out)))) {
            bytes = generate(sink);
        } catch (StdoutClosed e) {
            return 0; // the reader stopped early (gen - | head): not an error
        } catch (IOException e) {
            throw new InputDataException("cannot write " + out + ": " + e.getMessage(), e);
        }
        if (!toStdout) {
            out().println("wrote " + Figures.count(count) + " lines, " + Figures.bytes(bytes) + ", to " + out);
        }
        return 0;
    }

    private void check() {
        if (count < 0) {
            throw usageError("--count must be >= 0");
        }
        if (keySize < 1 || keySize > 65_535) {
            throw usageError("--key-size must be 1..65535");
        }
        if (valueSize < 0 || valueSize > 16 << 20) {
            throw usageError("--value-size must be 0..16777216");
        }
        if (keys == Keys.sequential && keySize < 19 && count > 1 && count - 1 >= pow10(keySize)) {
            throw usageError("--keys sequential needs " + Long.toString(count - 1).length()
                    + " digits for " + Figures.count(count) + " lines; give --key-size of at least that");
        }
        if (keys == Keys.zipf && !(zipfExponent > 0 && zipfExponent < 100)) {
            throw usageError("--zipf-exponent must be above 0 (and below 100)");
        }
    }

    private static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }

    /** Writes every line; returns the bytes written. */
    private long generate(Sink sink) throws IOException {
        int lineLength = keySize + 1 + valueSize + 1;
        byte[] buffer = new byte[Math.max(1 << 16, lineLength)];
        int filled = 0;
        long written = 0;
        SplitMix64 values = new SplitMix64(seed);
        SplitMix64 ranks = new SplitMix64(SplitMix64.mix(seed ^ 0x7A1F_5EEDL));
        ZipfSampler zipf = keys == Keys.zipf ? new ZipfSampler(Math.max(1, count), zipfExponent) : null;
        long keyBase = SplitMix64.mix(seed);
        for (long i = 0; i < count; i++) {
            if (filled + lineLength > buffer.length) {
                sink.write(buffer, filled);
                written += filled;
                filled = 0;
            }
            switch (keys) {
                case sequential -> decimalKey(i, buffer, filled);
                case uniform -> uniformKey(keyBase, i, buffer, filled);
                case zipf -> uniformKey(keyBase, zipf.sample(ranks) - 1, buffer, filled);
            }
            filled += keySize;
            buffer[filled++] = '\t';
            for (int v = 0; v < valueSize; v += 16) {
                hex(values.next(), buffer, filled + v, Math.min(16, valueSize - v));
            }
            filled += valueSize;
            buffer[filled++] = '\n';
        }
        sink.write(buffer, filled);
        return written + filled;
    }

    private void decimalKey(long i, byte[] b, int at) {
        long n = i;
        for (int c = at + keySize - 1; c >= at; c--) {
            b[c] = (byte) ('0' + n % 10);
            n /= 10;
        }
    }

    /**
     * Key number {@code i} of the uniform permutation: {@code x = mix(i + base)} as 16 hex digits,
     * then {@code mix(x + j)} for j = 1, 2, ... while more digits are wanted; the last K digits when
     * K < 16.
     */
    private void uniformKey(long base, long i, byte[] b, int at) {
        long x = SplitMix64.mix(i + base);
        if (keySize < 16) {
            hex(x, b, at, keySize);
            return;
        }
        hex(x, b, at, 16);
        for (int c = 16, j = 1; c < keySize; c += 16, j++) {
            hex(SplitMix64.mix(x + j), b, at + c, Math.min(16, keySize - c));
        }
    }

    /** The last {@code digits} hex digits of {@code v} (most significant first) at {@code at}. */
    private static void hex(long v, byte[] b, int at, int digits) {
        for (int c = digits - 1; c >= 0; c--) {
            b[at + c] = HEX[(int) (v & 0xF)];
            v >>>= 4;
        }
    }

    /** SplitMix64 (Steele, Lea, Flood 2014), written out so the output never depends on the JDK. */
    static final class SplitMix64 {
        private long state;

        SplitMix64(long seed) {
            this.state = seed;
        }

        long next() {
            state += 0x9E3779B97F4A7C15L;
            return mix(state);
        }

        /** A uniform double in [0, 1). */
        double nextDouble() {
            return (next() >>> 11) * 0x1.0p-53;
        }

        /** SplitMix64's finalizer: a bijection of the 64-bit integers. */
        static long mix(long z) {
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            return z ^ (z >>> 31);
        }
    }

    /**
     * Zipf ranks 1..n with P(r) proportional to 1/r^s, by rejection-inversion (Hörmann and Derflinger,
     * "Rejection-inversion to generate variates from monotone discrete distributions", 1996): constant
     * time per sample and constant memory for any n.
     */
    static final class ZipfSampler {
        private final long n;
        private final double s;
        private final double hIntegralX1;
        private final double hIntegralN;
        private final double threshold;

        ZipfSampler(long n, double s) {
            this.n = n;
            this.s = s;
            this.hIntegralX1 = hIntegral(1.5) - 1;
            this.hIntegralN = hIntegral(n + 0.5);
            this.threshold = 2 - hIntegralInverse(hIntegral(2.5) - h(2));
        }

        long sample(SplitMix64 random) {
            while (true) {
                double u = hIntegralN + random.nextDouble() * (hIntegralX1 - hIntegralN);
                double x = hIntegralInverse(u);
                long k = Math.clamp((long) (x + 0.5), 1, n);
                if (k - x <= threshold || u >= hIntegral(k + 0.5) - h(k)) {
                    return k;
                }
            }
        }

        /** H(x) = integral of h from 1 to x, with h(x) = 1/x^s; stable near s = 1. */
        private double hIntegral(double x) {
            double logX = Math.log(x);
            return helper2((1 - s) * logX) * logX;
        }

        private double h(double x) {
            return Math.exp(-s * Math.log(x));
        }

        private double hIntegralInverse(double x) {
            double t = Math.max(-1, x * (1 - s));
            return Math.exp(helper1(t) * x);
        }

        /** log(1 + x) / x, also for x near 0. */
        private static double helper1(double x) {
            return Math.abs(x) > 1e-8 ? Math.log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - 0.25 * x));
        }

        /** (exp(x) - 1) / x, also for x near 0. */
        private static double helper2(double x) {
            return Math.abs(x) > 1e-8 ? Math.expm1(x) / x : 1 + x * 0.5 * (1 + x / 3 * (1 + 0.25 * x));
        }
    }

    /** Thrown when stdout stops taking output. */
    private static final class StdoutClosed extends RuntimeException {
        StdoutClosed() {
            super(null, null, false, false);
        }
    }

    /** Where the lines go: a file's byte stream, or the command's stdout writer. */
    private interface Sink extends AutoCloseable {
        void write(byte[] b, int length) throws IOException;

        @Override
        void close() throws IOException;
    }

    private static final class StreamSink implements Sink {
        private final OutputStream out;

        StreamSink(OutputStream out) {
            this.out = new BufferedOutputStream(out, 1 << 16);
        }

        @Override
        public void write(byte[] b, int length) throws IOException {
            out.write(b, 0, length);
        }

        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /** The output is ASCII, so each byte is one char. */
    private static final class WriterSink implements Sink {
        private final PrintWriter out;
        private char[] chars = new char[0];

        WriterSink(PrintWriter out) {
            this.out = out;
        }

        @Override
        public void write(byte[] b, int length) {
            if (chars.length < length) {
                chars = new char[length];
            }
            for (int i = 0; i < length; i++) {
                chars[i] = (char) b[i];
            }
            out.write(chars, 0, length);
            if (out.checkError()) {
                throw new StdoutClosed();
            }
        }

        @Override
        public void close() {
            out.flush();
        }
    }
}
