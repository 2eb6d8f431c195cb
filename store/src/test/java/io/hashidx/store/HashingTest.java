package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The key hash is exactly XXH64, and what the file format derives from it. */
class HashingTest {

    /** One XXH64 test vector: the bytes 00 01 .. (length-1), a seed, and the reference result. */
    record Vector(int length, long seed, long xxh64) {
        byte[] input() {
            byte[] b = new byte[length];
            for (int i = 0; i < length; i++) {
                b[i] = (byte) i;
            }
            return b;
        }

        @Override
        public String toString() {
            return String.format("length %d seed 0x%016x", length, seed);
        }
    }

    /**
     * Reference values, not computed by hashidx. Seed 0: {@code xxhsum -H64} (xxhsum 0.8.1, Debian
     * package xxhash) over files holding the input bytes. All seeds (seed 0 as a cross-check): the
     * reference C library (libxxhash 0.8.1, Debian package libxxhash-dev) via a small C program printing
     * {@code XXH64(buf, length, seed)}. The same table is in src/test/resources/xxh64-vectors.txt.
     */
    static final List<Vector> VECTORS = List.of(
            new Vector(0, 0x0000000000000000L, 0xef46db3751d8e999L),
            new Vector(1, 0x0000000000000000L, 0xe934a84adb052768L),
            new Vector(3, 0x0000000000000000L, 0xe5c7bb4533bc65ddL),
            new Vector(4, 0x0000000000000000L, 0xffced8604453cc1eL),
            new Vector(7, 0x0000000000000000L, 0x14cc643f630c72d2L),
            new Vector(8, 0x0000000000000000L, 0x884a173614b81b8dL),
            new Vector(15, 0x0000000000000000L, 0xa948f5f0f6abac2dL),
            new Vector(16, 0x0000000000000000L, 0x44b6ef2fb84169f7L),
            new Vector(31, 0x0000000000000000L, 0xc346d2b59b4d8ee1L),
            new Vector(32, 0x0000000000000000L, 0xcbf59c5116ff32b4L),
            new Vector(33, 0x0000000000000000L, 0x0c535d1acafb8eadL),
            new Vector(64, 0x0000000000000000L, 0xf7c67301db6713f0L),
            new Vector(100, 0x0000000000000000L, 0x6ac1e58032166597L),
            new Vector(0, 0x0000000000000001L, 0xd5afba1336a3be4bL),
            new Vector(1, 0x0000000000000001L, 0x771917c7f6ee2451L),
            new Vector(3, 0x0000000000000001L, 0xa2168d89c582b451L),
            new Vector(4, 0x0000000000000001L, 0x94506f8c7e5870a9L),
            new Vector(7, 0x0000000000000001L, 0xaf4c5311c47c77b7L),
            new Vector(8, 0x0000000000000001L, 0x9d2b7c7354fe4e23L),
            new Vector(15, 0x0000000000000001L, 0xc60aa95976ed0e4eL),
            new Vector(16, 0x0000000000000001L, 0xdd4230f47b0d28c1L),
            new Vector(31, 0x0000000000000001L, 0xf031031d65977dfcL),
            new Vector(32, 0x0000000000000001L, 0xd74e6766ce9dba94L),
            new Vector(33, 0x0000000000000001L, 0xa371825f4210fe99L),
            new Vector(64, 0x0000000000000001L, 0x3ce5bdf7575926c0L),
            new Vector(100, 0x0000000000000001L, 0x3d19a3a2098a7023L),
            new Vector(0, 0x9e3779b97f4a7c15L, 0xc4349fc93c010000L),
            new Vector(1, 0x9e3779b97f4a7c15L, 0x126bb57a12364aa5L),
            new Vector(3, 0x9e3779b97f4a7c15L, 0x67bc6ed5f6c6e4baL),
            new Vector(4, 0x9e3779b97f4a7c15L, 0xd89842cd31e24e54L),
            new Vector(7, 0x9e3779b97f4a7c15L, 0xececf5faa8a7490eL),
            new Vector(8, 0x9e3779b97f4a7c15L, 0xd18b6d7a5a668732L),
            new Vector(15, 0x9e3779b97f4a7c15L, 0x7804c1fcfe249577L),
            new Vector(16, 0x9e3779b97f4a7c15L, 0x1a1a343e4550d065L),
            new Vector(31, 0x9e3779b97f4a7c15L, 0xf3da6d05709c035dL),
            new Vector(32, 0x9e3779b97f4a7c15L, 0xa1c89217e9d50750L),
            new Vector(33, 0x9e3779b97f4a7c15L, 0xe6a3c00cd6e74075L),
            new Vector(64, 0x9e3779b97f4a7c15L, 0x2589245e62a1969bL),
            new Vector(100, 0x9e3779b97f4a7c15L, 0x3b97d91eba03e785L),
            new Vector(0, 0xffffffffffffffffL, 0x298f4c84b24f5380L),
            new Vector(1, 0xffffffffffffffffL, 0x8ba3328805e37c90L),
            new Vector(3, 0xffffffffffffffffL, 0x2766da80af982d5dL),
            new Vector(4, 0xffffffffffffffffL, 0x50ee1d0d77c6ca04L),
            new Vector(7, 0xffffffffffffffffL, 0x53899ea28b7375fcL),
            new Vector(8, 0xffffffffffffffffL, 0x367a57c649c7a5acL),
            new Vector(15, 0xffffffffffffffffL, 0xfcc7839551cfebcaL),
            new Vector(16, 0xffffffffffffffffL, 0xb261c2ef4316cc29L),
            new Vector(31, 0xffffffffffffffffL, 0x208e0384ffffdb7aL),
            new Vector(32, 0xffffffffffffffffL, 0x35220dfdb7d4d7c9L),
            new Vector(33, 0xffffffffffffffffL, 0x5677d5193d356c20L),
            new Vector(64, 0xffffffffffffffffL, 0x79e8b8230306e25cL),
            new Vector(100, 0xffffffffffffffffL, 0x09a991a091c9f6d7L));

    static List<Vector> vectors() {
        return VECTORS;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void xxh64MatchesTheReferenceImplementation(Vector v) {
        assertThat(Hashing.xxh64(v.input(), 0, v.length(), v.seed()))
                .as("XXH64 of %s: expected %016x", v, v.xxh64()).isEqualTo(v.xxh64());
        assertThat(Hashing.hash(v.input(), v.seed())).isEqualTo(v.xxh64());
    }

    /** The hash reads only bytes off..off+len-1, wherever they lie in the array. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("vectors")
    void xxh64OfASliceIgnoresTheBytesAroundIt(Vector v) {
        SplittableRandom rnd = new SplittableRandom(v.length() * 31L + v.seed());
        for (int off : new int[] {1, 3, 8, 13}) {
            byte[] padded = new byte[off + v.length() + 9];
            for (int i = 0; i < padded.length; i++) {
                padded[i] = (byte) rnd.nextInt(256);
            }
            System.arraycopy(v.input(), 0, padded, off, v.length());
            assertThat(Hashing.xxh64(padded, off, v.length(), v.seed())).as("%s at offset %d", v, off).isEqualTo(v.xxh64());
        }
    }

    /** The bulk builder hashes keys where they lie in its buffers: the same hash as of an array, every length. */
    @Test
    void hashingBytesInAMemorySegmentGivesTheHashOfTheSameBytesInAnArray() {
        long seed = 99;
        SplittableRandom rnd = new SplittableRandom(seed);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment s = arena.allocate(256);
            byte[] a = new byte[256];
            for (int round = 0; round < 3000; round++) {
                rnd.nextBytes(a);
                java.lang.foreign.MemorySegment.copy(a, 0, s, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, a.length);
                int len = rnd.nextInt(120);
                int off = rnd.nextInt(256 - len);
                long hashSeed = rnd.nextLong();
                assertThat(Hashing.xxh64(s, off, len, hashSeed)).as("seed %d round %d: length %d at %d", seed, round, len, off)
                        .isEqualTo(Hashing.xxh64(a, off, len, hashSeed));
            }
        }
    }

    @Test
    void theWellKnownVectorOfTheEmptyInputHolds() {
        assertThat(Hashing.xxh64(new byte[0], 0, 0, 0)).isEqualTo(0xEF46DB3751D8E999L);
    }

    /** The vectors file is what FORMAT.md quotes: it must list exactly the vectors checked here. */
    @Test
    void theVectorsFileListsExactlyTheVectorsThisTestChecks() throws IOException {
        Path file = Path.of("src", "test", "resources", "xxh64-vectors.txt");
        List<Vector> parsed = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.trim().split("\\s+");
            assertThat(f).as("line %s", line).hasSize(4);
            int length = Integer.parseInt(f[1]);
            String expectedInput = length == 0 ? "empty" : length == 1 ? "00" : String.format("00..%02x", length - 1);
            assertThat(f[0]).as("input column of %s", line).isEqualTo(expectedInput);
            parsed.add(new Vector(length, HexFormat.fromHexDigitsToLong(f[2].substring(2)),
                    HexFormat.fromHexDigitsToLong(f[3].substring(2))));
        }
        assertThat(parsed).isEqualTo(VECTORS);
    }

    @Test
    void bucketIndexIsTheHighHalfOfHashTimesBucketsSoDoublingSplitsBucketBIntoTwoBAndTwoBPlusOne() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int i = 0; i < 100_000; i++) {
            long hash = rnd.nextLong();
            long n = 1 + rnd.nextLong(1L << 40);
            long b = Hashing.bucketIndex(hash, n);
            assertThat(b).as("hash %x n %d", hash, n).isBetween(0L, n - 1);
            assertThat(b).isEqualTo(Math.unsignedMultiplyHigh(hash, n));
            long doubled = Hashing.bucketIndex(hash, 2 * n);
            assertThat(doubled).as("hash %x n %d", hash, n).isBetween(2 * b, 2 * b + 1);
        }
        assertThat(Hashing.bucketIndex(0, 1000)).isZero();
        assertThat(Hashing.bucketIndex(-1L, 1000)).isEqualTo(999);
        assertThat(Hashing.bucketIndex(Long.MIN_VALUE, 1000)).isEqualTo(500);
    }

    @Test
    void tophashIsTheLowByteMovedAboveTheReservedMarks() {
        for (int low = 0; low < 256; low++) {
            long hash = 0xABCD_EF01_2345_6700L | low;
            int expected = low < BucketLayout.MIN_TOPHASH ? low + BucketLayout.MIN_TOPHASH : low;
            assertThat(Hashing.tophash(hash)).as("low byte %d", low).isEqualTo(expected);
        }
    }
}
