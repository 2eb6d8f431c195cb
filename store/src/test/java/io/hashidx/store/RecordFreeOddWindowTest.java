package io.hashidx.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An overwrite or remove of an out-of-line entry frees its record under the space lock. It takes that
 * lock before it makes its bucket's version odd: while another writer holds the lock (as one does while
 * it extends the file), lock-free readers of the bucket still find an even version and read on.
 */
class RecordFreeOddWindowTest {
    @TempDir
    Path dir;

    @Test
    void aWriterWaitingForTheSpaceLockLeavesItsBucketsVersionEven() throws Exception {
        try (HashIndex idx = HashIndex.create(dir.resolve("v.hidx"), Options.variableLengths().seed(7))) {
            byte[] key = "a key of some length".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            byte[] old = new byte[500];
            Arrays.fill(old, (byte) 1);
            byte[] next = new byte[600];
            Arrays.fill(next, (byte) 2);
            idx.put(key, old);
            Table t = idx.table();
            long hash = Hashing.xxh64(key, 0, key.length, idx.seed());
            Table.Geometry g = t.geometry();
            long bucket = g.bucketsCell() + Hashing.bucketIndex(hash, g.bucketCount());
            long before = t.layout.version(bucket);
            assertThat(before & 1).isZero();
            for (Runnable write : new Runnable[] {() -> idx.put(key, next), () -> idx.remove(key)}) {
                CountDownLatch done = new CountDownLatch(1);
                Thread writer;
                synchronized (t.space) {
                    writer = Thread.ofPlatform().start(() -> {
                        write.run();
                        done.countDown();
                    });
                    // the writer now waits for the space lock (or has not got that far): never inside
                    while (writer.getState() != Thread.State.BLOCKED && !done.await(1, TimeUnit.MILLISECONDS)) {
                        Thread.onSpinWait();
                    }
                    assertThat(done.getCount()).as("the write cannot finish without the space lock").isOne();
                    assertThat(t.layout.version(bucket) & 1).as("version while the writer waits").isZero();
                    // a lock-free read meanwhile finishes (a reader that met an odd version would end
                    // up waiting for the writer's stripes, held until the space lock is let go)
                    java.util.concurrent.CompletableFuture<byte[]> read =
                            java.util.concurrent.CompletableFuture.supplyAsync(() -> idx.get(key));
                    assertThat(read.get(10, TimeUnit.SECONDS)).as("a lock-free read meanwhile").isNotNull();
                }
                assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
                writer.join();
                assertThat(t.layout.version(bucket) & 1).isZero();
            }
            assertThat(idx.get(key)).isNull();
            assertThat(idx.verify()).isEmpty();
        }
    }
}
