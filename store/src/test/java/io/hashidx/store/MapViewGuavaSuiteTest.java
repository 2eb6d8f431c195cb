package io.hashidx.store;

import com.google.common.collect.testing.ConcurrentMapTestSuiteBuilder;
import com.google.common.collect.testing.MapTestSuiteBuilder;
import com.google.common.collect.testing.SampleElements;
import com.google.common.collect.testing.TestMapGenerator;
import com.google.common.collect.testing.TestStringMapGenerator;
import com.google.common.collect.testing.features.CollectionFeature;
import com.google.common.collect.testing.features.CollectionSize;
import com.google.common.collect.testing.features.Feature;
import com.google.common.collect.testing.features.MapFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import junit.framework.Test;
import junit.framework.TestSuite;

/**
 * Guava's collection test suites (guava-testlib) on {@link HashIndex#asMap}: every Map and ConcurrentMap
 * contract test, and the tests of the keySet, values and entrySet views, their iterators and the
 * Java 8 default methods, each on a map backed by a new index file. Every feature the view has is
 * declared, so its tests run; none is suppressed. The features not declared are ones the view does
 * not have: null keys, values and queries (refused as ConcurrentHashMap does), a known or insertion
 * iteration order, fail-fast iterators (they are weakly consistent), serialization.
 *
 * <p>These are JUnit 3 suites; the JUnit vintage engine runs them through {@link #suite()}.
 */
public class MapViewGuavaSuiteTest {
    private static final Feature<?>[] FEATURES = {
        MapFeature.GENERAL_PURPOSE, // put, remove, clear on the map and remove through its views
        CollectionFeature.SUPPORTS_ITERATOR_REMOVE,
        CollectionSize.ANY,
    };

    /** The indexes opened for the test running now; closed and deleted after it. */
    private static final List<HashIndex> OPEN = new ArrayList<>();
    private static final Path DIR;

    static {
        try {
            DIR = Files.createTempDirectory("hashidx-guava-suite");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Test suite() {
        TestSuite suite = new TestSuite("HashIndex.asMap");
        suite.addTest(ConcurrentMapTestSuiteBuilder.using(new TestStringMapGenerator() {
                    @Override
                    protected Map<String, String> create(Map.Entry<String, String>[] entries) {
                        return filled(Codec.utf8(), Codec.utf8(), entries);
                    }
                })
                .named("asMap[utf8, utf8]")
                .withFeatures(FEATURES)
                .withTearDown(MapViewGuavaSuiteTest::closeAll)
                .createTestSuite());
        // Guava's sample keys are 3..5 bytes ("one" .. "three") and values 3..8 ("May" .. "February"):
        // inline widths of 4 and 19 put the key "three" out of line, 20 and 3 every value but "May"
        for (int[] inline : new int[][] {{4, 19}, {20, 3}}) {
            Options variable = Options.variableLengths(inline[0], inline[1]);
            suite.addTest(ConcurrentMapTestSuiteBuilder.using(new TestStringMapGenerator() {
                        @Override
                        protected Map<String, String> create(Map.Entry<String, String>[] entries) {
                            return filled(variable, Codec.utf8(), Codec.utf8(), entries);
                        }
                    })
                    .named("asMap[utf8, utf8] of a variable-length file, inline " + inline[0] + " and " + inline[1])
                    .withFeatures(FEATURES)
                    .withTearDown(MapViewGuavaSuiteTest::closeAll)
                    .createTestSuite());
        }
        suite.addTest(ConcurrentMapTestSuiteBuilder.using(new LongUuidGenerator())
                .named("asMap[int64, uuid]")
                .withFeatures(FEATURES)
                .withTearDown(MapViewGuavaSuiteTest::closeAll)
                .createTestSuite());
        suite.addTest(MapTestSuiteBuilder.using(new TestStringMapGenerator() {
                    @Override
                    protected Map<String, String> create(Map.Entry<String, String>[] entries) {
                        return filled(Codec.utf8(), Codec.utf8(), entries);
                    }
                })
                .named("asMap[utf8, utf8] as a Map")
                .withFeatures(FEATURES)
                .withTearDown(MapViewGuavaSuiteTest::closeAll)
                .createTestSuite());
        return suite;
    }

    @SafeVarargs
    private static <K, V> Map<K, V> filled(Codec<K> keys, Codec<V> values, Map.Entry<K, V>... entries) {
        return filled(Options.widths(64, 64), keys, values, entries);
    }

    /** A map on a new file with {@code options}. */
    @SafeVarargs
    private static <K, V> Map<K, V> filled(Options options, Codec<K> keys, Codec<V> values, Map.Entry<K, V>... entries) {
        Path file = DIR.resolve("map-" + OPEN.size() + ".hidx");
        HashIndex index = HashIndex.create(file, options.seed(OPEN.size()));
        OPEN.add(index);
        Map<K, V> map = index.asMap(keys, values);
        for (Map.Entry<K, V> e : entries) {
            map.put(e.getKey(), e.getValue());
        }
        return map;
    }

    private static void closeAll() {
        try {
            for (HashIndex index : OPEN) {
                index.close();
                Files.deleteIfExists(index.path());
            }
            OPEN.clear();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Long keys and UUID values: the fixed-size codecs. */
    private static final class LongUuidGenerator implements TestMapGenerator<Long, UUID> {
        @Override
        public SampleElements<Map.Entry<Long, UUID>> samples() {
            return new SampleElements<>(
                    Map.entry(0L, new UUID(0, 0)),
                    Map.entry(-1L, new UUID(-1, -1)),
                    Map.entry(Long.MIN_VALUE, new UUID(1, 2)),
                    Map.entry(Long.MAX_VALUE, new UUID(Long.MIN_VALUE, 7)),
                    Map.entry(42L, UUID.nameUUIDFromBytes(new byte[] {42})));
        }

        @Override
        @SuppressWarnings("unchecked")
        public Map<Long, UUID> create(Object... entries) {
            Map.Entry<Long, UUID>[] typed = new Map.Entry[entries.length];
            for (int i = 0; i < entries.length; i++) {
                typed[i] = (Map.Entry<Long, UUID>) entries[i];
            }
            return filled(Codec.int64(), Codec.uuid(), typed);
        }

        @Override
        @SuppressWarnings("unchecked")
        public Map.Entry<Long, UUID>[] createArray(int length) {
            return new Map.Entry[length];
        }

        @Override
        public Iterable<Map.Entry<Long, UUID>> order(List<Map.Entry<Long, UUID>> insertionOrder) {
            return insertionOrder;
        }

        @Override
        public Long[] createKeyArray(int length) {
            return new Long[length];
        }

        @Override
        public UUID[] createValueArray(int length) {
            return new UUID[length];
        }
    }
}
