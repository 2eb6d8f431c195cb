package io.hashidx.bench.peers;

import static org.assertj.core.api.Assertions.assertThat;

import io.hashidx.bench.Keys;
import io.hashidx.store.HashIndex;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The bench's hashidx store: a presized store is loaded by the bulk builder, otherwise by puts. */
class HashidxStoreTest {
    private static final int N = 20_000;

    @Test
    void aPresizedStoreIsBuiltByTheBulkBuilderAndServesEveryKey(@TempDir Path dir) {
        try (HashidxStore store = HashidxStore.create(dir, N)) {
            assertThat(dir.resolve(HashidxStore.FILE)).as("made by the load, not by create").doesNotExist();
            store.bulkLoad(N);
            store.sync();
            assertAllPresent(store);
        }
        try (HashIndex idx = HashIndex.open(dir.resolve(HashidxStore.FILE))) {
            assertThat(idx.size()).isEqualTo(N);
            assertThat(idx.verify()).isEmpty();
        }
        try (HashidxStore reopened = HashidxStore.open(dir)) {
            assertAllPresent(reopened);
        }
    }

    @Test
    void aStoreThatGrowsIsLoadedByPutsAndAPresizedOneUsedFirstByPutsIsCreatedPresized(@TempDir Path dir)
            throws Exception {
        Path grows = Files.createDirectory(dir.resolve("grows"));
        try (HashidxStore store = HashidxStore.create(grows, 0)) {
            assertThat(grows.resolve(HashidxStore.FILE)).exists();
            store.bulkLoad(N);
            assertAllPresent(store);
        }
        Path presized = Files.createDirectory(dir.resolve("presized"));
        byte[] key = new byte[Keys.KEY_BYTES];
        byte[] value = new byte[Keys.VALUE_BYTES];
        try (HashidxStore store = HashidxStore.create(presized, N)) {
            Keys.key(0, key);
            assertThat(store.get(key, value)).isFalse();
            store.bulkLoad(N); // the file exists now: one put each
            assertAllPresent(store);
        }
    }

    private static void assertAllPresent(HashidxStore store) {
        byte[] key = new byte[Keys.KEY_BYTES];
        byte[] value = new byte[Keys.VALUE_BYTES];
        byte[] expected = new byte[Keys.VALUE_BYTES];
        for (int i = 0; i < N; i++) {
            Keys.key(i, key);
            Keys.value(i, 0, expected);
            assertThat(store.get(key, value)).as("key %d", i).isTrue();
            assertThat(value).as("key %d", i).isEqualTo(expected);
        }
    }
}
