package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Random;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Helpers shared by the store tests: deterministic keys and values, whole-table checks, error checks. */
final class Fixtures {
    private Fixtures() {
    }

    /** A 16-byte key that is distinct for every {@code i}: i little-endian, then a mix of i. */
    static byte[] key16(long i) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(i).putLong(i * 0x9E3779B97F4A7C15L ^ 0x5DEECE66DL).array();
    }

    /** Writes {@link #key16(long)} into {@code dst} without allocating. */
    static void key16(long i, byte[] dst) {
        ByteBuffer.wrap(dst).order(ByteOrder.LITTLE_ENDIAN).putLong(0, i).putLong(8, i * 0x9E3779B97F4A7C15L ^ 0x5DEECE66DL);
    }

    /** The 8-byte key of {@code id} (little-endian), for files with 8-byte keys. */
    static byte[] key8(long id) {
        return ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(id).array();
    }

    /** A value of 0..16 bytes derived from a key id and an operation number, so overwrites are visible. */
    static byte[] value16Varying(long id, long op) {
        byte[] v = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(~id).putLong(op * 31 + id).array();
        return java.util.Arrays.copyOf(v, (int) Math.floorMod(op * 7 + id, 17L));
    }

    /** A 16-byte value derived from {@code i} and a version, so overwrites are visible. */
    static byte[] value16(long i, int version) {
        return ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                .putLong(~i).putLong(i * 31 + version).array();
    }

    static void value16(long i, int version, byte[] dst) {
        ByteBuffer.wrap(dst).order(ByteOrder.LITTLE_ENDIAN).putLong(0, ~i).putLong(8, i * 31 + version);
    }

    /**
     * Iterates the whole index with a seeded start and returns what it saw, failing on any key
     * returned twice.
     */
    static Map<Bytes, byte[]> iterateAll(HashIndex idx, long randomSeed, String context) {
        Map<Bytes, byte[]> seen = new HashMap<>();
        for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(randomSeed)); it.hasNext(); ) {
            Map.Entry<byte[], byte[]> e = it.next();
            byte[] previous = seen.put(Bytes.of(e.getKey()), e.getValue());
            assertThat(previous).as("%s: key %s returned twice by one iteration", context, Bytes.of(e.getKey())).isNull();
        }
        return seen;
    }

    /** Asserts that the index holds exactly {@code model}: size, iteration (each key once) and every get. */
    static void assertHoldsExactly(HashIndex idx, Map<Bytes, byte[]> model, long randomSeed, String context) {
        assertThat(idx.size()).as("%s: size", context).isEqualTo(model.size());
        Map<Bytes, byte[]> seen = iterateAll(idx, randomSeed, context);
        assertThat(seen.keySet()).as("%s: keys returned by iteration", context).isEqualTo(model.keySet());
        for (Map.Entry<Bytes, byte[]> e : model.entrySet()) {
            assertThat(seen.get(e.getKey())).as("%s: iterated value of %s", context, e.getKey()).isEqualTo(e.getValue());
            assertThat(idx.get(e.getKey().array())).as("%s: get %s", context, e.getKey()).isEqualTo(e.getValue());
        }
    }

    /**
     * Asserts that every allocated cell is accounted for: the journal, the current and old arrays,
     * their overflow pages, the free list (with its hanging chains) and retired arrays waiting for
     * iterators. A cell in none of them is leaked space that nothing will ever reuse.
     */
    static void assertNoLeakedCells(HashIndex idx, String context) {
        Table t = idx.table();
        Header h = t.h;
        long accounted = 1 + h.bucketCount + h.oldBucketCount + h.overflowPages + h.oldOverflowPages + h.freeCells
                + t.space.retiredCells() + h.recordCells;
        assertThat(accounted).as("%s: cells accounted for (journal 1, buckets %d, old buckets %d, overflow %d, "
                        + "old overflow %d, free %d, retired %d, records %d) vs allocated", context, h.bucketCount,
                h.oldBucketCount, h.overflowPages, h.oldOverflowPages, h.freeCells, t.space.retiredCells(),
                h.recordCells).isEqualTo(h.allocatedCells);
    }

    /**
     * Asserts that {@code call} throws {@code type} with {@code code}, naming {@code file} in both
     * {@link HashIndexException#file()} and the message, and containing every fragment.
     */
    static void assertFails(ThrowingCallable call, Class<? extends HashIndexException> type,
                            HashIndexException.Code code, Path file, String... fragments) {
        assertThatThrownBy(call)
                .isInstanceOf(type)
                .satisfies(t -> {
                    HashIndexException e = (HashIndexException) t;
                    assertThat(e.code()).as("code of: %s", e.getMessage()).isEqualTo(code);
                    assertThat(e.file()).as("file of: %s", e.getMessage()).isEqualTo(file);
                    assertThat(e.getMessage()).startsWith(code.id()).contains(file.toString());
                    for (String fragment : fragments) {
                        assertThat(e.getMessage()).contains(fragment);
                    }
                });
    }

    /** The upper {@code 1 - alpha} quantile of chi-square with {@code k} degrees of freedom (Wilson-Hilferty). */
    static double chiSquareCritical(double k, double z) {
        double a = 2.0 / (9.0 * k);
        double c = 1 - a + z * Math.sqrt(a);
        return k * c * c * c;
    }

    /** The standard normal quantile of 0.999. */
    static final double Z_999 = 3.090232306167813;
}
