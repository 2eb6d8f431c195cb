package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The typed view beyond what Guava's suites check: the five codecs' encodings and their refusals, byte
 * arrays compared by content, the errors for too-long keys and for a view made with the wrong codecs,
 * atomic merge from many threads, and a seeded random run against a HashMap with reopens.
 */
class MapViewTest {
    @Test
    void codecsEncodeAsDocumentedAndRoundTrip() {
        assertThat(Codec.int64().encode(0x0102030405060708L)).containsExactly(1, 2, 3, 4, 5, 6, 7, 8);
        assertThat(Codec.int32().encode(0x01020304)).containsExactly(1, 2, 3, 4);
        assertThat(Codec.uuid().encode(new UUID(0x0102030405060708L, 0x090A0B0C0D0E0F10L)))
                .containsExactly(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16);
        assertThat(Codec.utf8().encode("é€😀")).containsExactly(0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80);
        for (long l : new long[] {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, 42}) {
            assertThat(Codec.int64().decode(Codec.int64().encode(l))).isEqualTo(l);
        }
        for (int i : new int[] {0, -1, Integer.MIN_VALUE, Integer.MAX_VALUE}) {
            assertThat(Codec.int32().decode(Codec.int32().encode(i))).isEqualTo(i);
        }
        UUID u = UUID.randomUUID();
        assertThat(Codec.uuid().decode(Codec.uuid().encode(u))).isEqualTo(u);
        assertThat(Codec.utf8().decode(Codec.utf8().encode(""))).isEmpty();
        byte[] b = {1, 2, 3};
        byte[] encoded = Codec.bytes().encode(b);
        b[0] = 9;
        assertThat(encoded).as("bytes() copies").containsExactly(1, 2, 3);
        assertThat(Codec.bytes().equal(new byte[] {1}, new byte[] {1})).isTrue();
        assertThat(Codec.bytes().hash(new byte[] {1})).isEqualTo(Codec.bytes().hash(new byte[] {1}));
    }

    @Test
    void codecsRefuseWhatHasNoEncodingOrIsNotOne() {
        assertThatThrownBy(() -> Codec.utf8().encode("a\uD800b")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unpaired surrogate at index 1");
        assertThatThrownBy(() -> Codec.utf8().encode("\uDC00")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Codec.utf8().decode(new byte[] {(byte) 0xC3})).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not UTF-8");
        assertThatThrownBy(() -> Codec.int64().decode(new byte[7])).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a Long is 8 bytes, not 7");
        assertThatThrownBy(() -> Codec.int32().decode(new byte[5])).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("an Integer is 4 bytes, not 5");
        assertThatThrownBy(() -> Codec.uuid().decode(new byte[15])).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("a UUID is 16 bytes, not 15");
    }

    @Test
    void byteArrayValuesAndKeysCompareByContent(@TempDir Path dir) {
        try (HashIndex idx = HashIndex.create(dir.resolve("b.hidx"), Options.widths(8, 8))) {
            ConcurrentMap<byte[], byte[]> map = idx.asMap(Codec.bytes(), Codec.bytes());
            map.put(new byte[] {1}, new byte[] {2});
            assertThat(map.containsKey(new byte[] {1})).isTrue();
            assertThat(map.containsValue(new byte[] {2})).isTrue();
            assertThat(map.replace(new byte[] {1}, new byte[] {2}, new byte[] {3})).isTrue();
            assertThat(map.entrySet().contains(Map.entry(new byte[] {1}, new byte[] {3}))).isTrue();
            assertThat(map.values().remove(new byte[] {3})).isTrue();
            assertThat(map).isEmpty();
            map.put(new byte[] {1}, new byte[] {2});
            ConcurrentMap<byte[], byte[]> other = new java.util.concurrent.ConcurrentHashMap<>();
            assertThat(map.equals(other)).isFalse();
            assertThat(map.remove(new byte[] {1}, new byte[] {2})).isTrue();
        }
    }

    @Test
    void tooLongKeysFailOnWritesAndAreAbsentToQueries(@TempDir Path dir) {
        Path file = dir.resolve("w.hidx");
        try (HashIndex idx = HashIndex.create(file, Options.widths(4, 4))) {
            ConcurrentMap<String, String> map = idx.asMap(Codec.utf8(), Codec.utf8());
            Fixtures.assertFails(() -> map.put("12345", "v"), HashIndexException.TooLong.class,
                    HashIndexException.Code.KEY_TOO_LONG, file, "key of 5 bytes", "key width of 4 bytes");
            Fixtures.assertFails(() -> map.putIfAbsent("é€", "v"), HashIndexException.TooLong.class,
                    HashIndexException.Code.KEY_TOO_LONG, file, "key of 5 bytes");
            Fixtures.assertFails(() -> map.put("k", "12345"), HashIndexException.TooLong.class,
                    HashIndexException.Code.VALUE_TOO_LONG, file, "value of 5 bytes");
            assertThat(map.get("12345")).isNull();
            assertThat(map.containsKey("12345")).isFalse();
            assertThat(map.remove("12345")).isNull();
            assertThat(map.remove("12345", "v")).isFalse();
            assertThat(map.replace("12345", "v")).isNull();
            assertThat(map.keySet().remove("12345")).isFalse();
            assertThat(map).isEmpty();
        }
    }

    @Test
    void aViewWithTheWrongCodecSaysSoAndNamesTheFile(@TempDir Path dir) {
        Path file = dir.resolve("codec.hidx");
        try (HashIndex idx = HashIndex.create(file, Options.widths(8, 8))) {
            idx.asMap(Codec.utf8(), Codec.utf8()).put("k", "abc");
            ConcurrentMap<String, Long> longs = idx.asMap(Codec.utf8(), Codec.int64());
            Fixtures.assertFails(() -> longs.get("k"), HashIndexException.State.class,
                    HashIndexException.Code.INVALID_ARGUMENT, file, "stored value of 3 bytes does not decode with "
                            + "Codec.int64()", "a Long is 8 bytes, not 3", "codecs the file was written with");
            ConcurrentMap<Integer, String> ints = idx.asMap(Codec.int32(), Codec.utf8());
            Fixtures.assertFails(() -> ints.keySet().iterator().next(), HashIndexException.State.class,
                    HashIndexException.Code.INVALID_ARGUMENT, file, "stored key of 1 bytes");
        }
    }

    @Test
    void aViewOfAReadOnlyIndexReadsAndRefusesWritesAndAClosedOneFails(@TempDir Path dir) {
        Path file = dir.resolve("ro.hidx");
        try (HashIndex idx = HashIndex.create(file, Options.widths(8, 8))) {
            idx.asMap(Codec.utf8(), Codec.int32()).put("k", 7);
        }
        ConcurrentMap<String, Integer> closedView;
        try (HashIndex ro = HashIndex.openReadOnly(file)) {
            ConcurrentMap<String, Integer> map = ro.asMap(Codec.utf8(), Codec.int32());
            assertThat(map).containsExactly(Map.entry("k", 7));
            Fixtures.assertFails(() -> map.putIfAbsent("j", 1), HashIndexException.State.class,
                    HashIndexException.Code.READ_ONLY, file, "opened read-only");
            Fixtures.assertFails(() -> map.merge("k", 1, Integer::sum), HashIndexException.State.class,
                    HashIndexException.Code.READ_ONLY, file);
            assertThat(map.keySet().iterator().next()).isEqualTo("k");
            closedView = map;
        }
        Fixtures.assertFails(() -> closedView.get("k"), HashIndexException.State.class,
                HashIndexException.Code.CLOSED, file);
    }

    @Test
    void nullsAreRefusedAsConcurrentHashMapRefusesThem(@TempDir Path dir) {
        try (HashIndex idx = HashIndex.create(dir.resolve("n.hidx"), Options.widths(8, 8))) {
            ConcurrentMap<String, String> map = idx.asMap(Codec.utf8(), Codec.utf8());
            map.put("k", "v");
            assertThatThrownBy(() -> map.put(null, "v")).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> map.put("k", null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> map.get(null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> map.containsValue(null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> map.putIfAbsent("k", null)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> map.replace("k", null, "v")).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> map.entrySet().iterator().next().setValue(null))
                    .isInstanceOf(NullPointerException.class);
            assertThat(map.remove("k", null)).isFalse();
            assertThat(map).containsExactly(Map.entry("k", "v"));
        }
    }

    @Test
    void iteratorRemoveAndEntrySetValueWriteThroughAndTheOrderIsStable(@TempDir Path dir) {
        try (HashIndex idx = HashIndex.create(dir.resolve("it.hidx"), Options.widths(8, 8).seed(4))) {
            ConcurrentMap<Long, Integer> map = idx.asMap(Codec.int64(), Codec.int32());
            for (long i = 0; i < 1_000; i++) {
                map.put(i, (int) i);
            }
            assertThat(new ArrayList<>(map.keySet())).as("two walks of an unchanged map")
                    .isEqualTo(new ArrayList<>(map.keySet()));
            for (Iterator<Map.Entry<Long, Integer>> it = map.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<Long, Integer> e = it.next();
                if (e.getKey() % 2 == 0) {
                    it.remove();
                } else {
                    assertThat(e.setValue(-e.getValue())).isEqualTo(e.getKey().intValue());
                    assertThat(e.getValue()).isEqualTo(-e.getKey().intValue());
                }
            }
            assertThat(map).hasSize(500);
            for (long i = 0; i < 1_000; i++) {
                assertThat(map.get(i)).isEqualTo(i % 2 == 0 ? null : (int) -i);
            }
            assertThatThrownBy(() -> map.keySet().iterator().remove()).isInstanceOf(IllegalStateException.class);
        }
    }

    /** merge (ConcurrentMap's default, built on putIfAbsent and replace) from many threads loses no count. */
    @Test
    void mergeFromManyThreadsCountsEveryCall(@TempDir Path dir) throws Exception {
        try (HashIndex idx = HashIndex.create(dir.resolve("merge.hidx"), Options.widths(16, 8).seed(5))) {
            ConcurrentMap<String, Long> counts = idx.asMap(Codec.utf8(), Codec.int64());
            int threads = 4;
            int calls = 4_000;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                List<Future<?>> done = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long seed = t;
                    done.add(pool.submit(() -> {
                        SplittableRandom r = new SplittableRandom(seed);
                        for (int i = 0; i < calls; i++) {
                            counts.merge("word" + r.nextInt(50), 1L, Long::sum);
                        }
                        return null;
                    }));
                }
                for (Future<?> f : done) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(counts.values().stream().mapToLong(Long::longValue).sum()).isEqualTo((long) threads * calls);
        }
    }

    /** A seeded sequence of every Map operation on the view against a HashMap, reopening now and then. */
    @Test
    void theViewMatchesAHashMapOverARandomSequenceWithReopens(@TempDir Path dir) {
        long seed = 0x5EED;
        Path file = dir.resolve("model.hidx");
        Map<String, String> model = new HashMap<>();
        SplittableRandom r = new SplittableRandom(seed);
        HashIndex idx = HashIndex.create(file, Options.widths(12, 24).seed(seed));
        try {
            ConcurrentMap<String, String> map = idx.asMap(Codec.utf8(), Codec.utf8());
            for (int op = 0; op < 20_000; op++) {
                String key = "k" + r.nextInt(2_000);
                String value = "v" + r.nextInt(5) + "é".repeat(r.nextInt(4));
                String at = "seed " + seed + ", op " + op + ", key " + key;
                switch (r.nextInt(10)) {
                    case 0 -> assertThat(map.put(key, value)).as(at).isEqualTo(model.put(key, value));
                    case 1 -> assertThat(map.remove(key)).as(at).isEqualTo(model.remove(key));
                    case 2 -> assertThat(map.putIfAbsent(key, value)).as(at).isEqualTo(model.putIfAbsent(key, value));
                    case 3 -> assertThat(map.replace(key, value)).as(at).isEqualTo(model.replace(key, value));
                    case 4 -> {
                        String expected = "v" + r.nextInt(5);
                        assertThat(map.replace(key, expected, value)).as(at).isEqualTo(model.replace(key, expected, value));
                    }
                    case 5 -> {
                        String expected = "v" + r.nextInt(5);
                        assertThat(map.remove(key, expected)).as(at).isEqualTo(model.remove(key, expected));
                    }
                    case 6 -> assertThat(map.merge(key, "+", String::concat)).as(at)
                            .isEqualTo(model.merge(key, "+", String::concat));
                    case 7 -> assertThat(map.get(key)).as(at).isEqualTo(model.get(key));
                    case 8 -> assertThat(map.computeIfAbsent(key, k -> "c")).as(at)
                            .isEqualTo(model.computeIfAbsent(key, k -> "c"));
                    default -> {
                        if (r.nextInt(1_000) == 0) {
                            idx.close();
                            idx = HashIndex.open(file);
                            map = idx.asMap(Codec.utf8(), Codec.utf8());
                            assertThat(map).as(at).isEqualTo(model);
                        }
                    }
                }
                // values stay within the 24-byte width: at most 3 two-byte characters and 18 more
                if (model.getOrDefault(key, "").length() > 20) {
                    model.remove(key);
                    map.remove(key);
                }
            }
            assertThat(map).isEqualTo(model);
            assertThat(model).isEqualTo(map);
            assertThat(map.hashCode()).isEqualTo(model.hashCode());
        } finally {
            idx.close();
        }
    }
}
