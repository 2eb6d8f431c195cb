package io.hashidx.store;

import static io.hashidx.store.Fixtures.key16;
import static io.hashidx.store.Fixtures.value16;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Go's iteration guarantees, on the mapped file, while the iterating thread itself writes. */
class IterationTest {

    /** Inserts keys 0.. until a doubling from {@code oldBuckets} buckets has started; returns the key count. */
    private static int fillUntilGrowing(HashIndex idx, Map<Bytes, byte[]> model, long oldBuckets) {
        Header h = idx.table().h;
        int n = 0;
        while (!(h.growing() && h.oldBucketCount == oldBuckets)) {
            byte[] k = key16(n);
            byte[] v = value16(n, 0);
            idx.put(k, v);
            model.put(Bytes.of(k), v);
            n++;
        }
        return n;
    }

    /**
     * While a growth is in progress, and through its completion and the start of the next doubling,
     * the iterating thread inserts new keys, overwrites and removes: every key present throughout is
     * returned exactly once with its value as of that moment, no key twice, and no removed key after
     * its removal.
     */
    @Test
    void iterationReturnsEveryKeyPresentThroughoutExactlyOnceWhileItsOwnWritesGrowTheTable(@TempDir Path dir) {
        for (long seed = 1; seed <= 3; seed++) {
            iterateWhileWriting(dir.resolve("iter-" + seed + ".hidx"), seed);
        }
    }

    private static void iterateWhileWriting(Path path, long seed) {
        Map<Bytes, byte[]> model = new HashMap<>();
        SplittableRandom rnd = new SplittableRandom(seed);
        try (HashIndex idx = HashIndex.create(path, Options.widths(16, 16).seed(seed))) {
            Header h = idx.table().h;
            int initial = fillUntilGrowing(idx, model, 512);
            long doublingsAtStart = h.doublings;
            Set<Bytes> removed = new HashSet<>();
            Set<Bytes> returned = new HashSet<>();
            int next = initial;
            boolean sawGrowthComplete = false;
            boolean sawNextGrowth = false;
            Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(seed));
            int step = 0;
            while (it.hasNext()) {
                Map.Entry<byte[], byte[]> e = it.next();
                Bytes k = Bytes.of(e.getKey());
                assertThat(returned.add(k)).as("seed %d step %d: key %s returned twice", seed, step, k).isTrue();
                assertThat(removed).as("seed %d step %d: returned a removed key", seed, step).doesNotContain(k);
                assertThat(e.getValue()).as("seed %d step %d: value of %s as of now", seed, step, k).isEqualTo(model.get(k));
                // the iterating thread's own writes: 3 new keys, an overwrite, a remove
                for (int j = 0; j < 3; j++) {
                    byte[] nk = key16(next);
                    byte[] nv = value16(next, 0);
                    idx.put(nk, nv);
                    model.put(Bytes.of(nk), nv);
                    next++;
                }
                long victim = rnd.nextLong(initial);
                byte[] vk = key16(victim);
                if (!removed.contains(Bytes.of(vk))) {
                    byte[] nv = value16(victim, step + 1);
                    idx.put(vk, nv);
                    model.put(Bytes.of(vk), nv);
                }
                if (step % 4 == 0) {
                    byte[] rk = key16(rnd.nextLong(initial));
                    idx.remove(rk);
                    model.remove(Bytes.of(rk));
                    removed.add(Bytes.of(rk));
                }
                sawGrowthComplete |= h.doublings == doublingsAtStart && !h.growing();
                sawNextGrowth |= h.doublings > doublingsAtStart;
                step++;
            }
            assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
            assertThat(sawGrowthComplete).as("seed %d: the growth under way at the start completed during the iteration", seed).isTrue();
            assertThat(sawNextGrowth).as("seed %d: the next doubling started during the iteration", seed).isTrue();
            Set<Bytes> presentThroughout = new HashSet<>();
            for (int i = 0; i < initial; i++) {
                presentThroughout.add(Bytes.of(key16(i)));
            }
            presentThroughout.removeAll(removed);
            assertThat(presentThroughout).hasSizeGreaterThan(initial / 2);
            Set<Bytes> missing = new HashSet<>(presentThroughout);
            missing.removeAll(returned);
            assertThat(missing).as("seed %d: keys present throughout but never returned", seed).isEmpty();
            assertThat(idx.verify()).isEmpty();
            Fixtures.assertHoldsExactly(idx, model, seed, "after iterating while writing, seed " + seed);
        }
    }

    @Test
    void overwritingEveryValueDuringGrowthReturnsEachKeyExactlyOnce(@TempDir Path dir) {
        Map<Bytes, byte[]> model = new HashMap<>();
        try (HashIndex idx = HashIndex.create(dir.resolve("overwrite.hidx"), Options.widths(16, 16).seed(5))) {
            Header h = idx.table().h;
            int n = fillUntilGrowing(idx, model, 1024);
            long doublings = h.doublings;
            Set<Bytes> returned = new HashSet<>();
            boolean completed = false;
            for (Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(5)); it.hasNext(); ) {
                Map.Entry<byte[], byte[]> e = it.next();
                Bytes k = Bytes.of(e.getKey());
                assertThat(returned.add(k)).as("key %s returned twice", k).isTrue();
                assertThat(e.getValue()).as("value of %s", k).isEqualTo(model.get(k));
                byte[] nv = e.getValue().clone();
                nv[0] ^= (byte) 0xFF;
                assertThat(idx.put(e.getKey(), nv)).isTrue();
                model.put(k, nv);
                completed |= !h.growing();
            }
            assertThat(completed).as("the growth completed during the iteration").isTrue();
            assertThat(h.doublings).as("no further doubling: overwrites add nothing").isEqualTo(doublings);
            assertThat(returned).hasSize(n).isEqualTo(model.keySet());
            for (int i = 0; i < n; i++) {
                byte[] v = value16(i, 0);
                v[0] ^= (byte) 0xFF;
                assertThat(idx.get(key16(i))).as("entry %d overwritten once", i).isEqualTo(v);
            }
            assertThat(idx.verify()).isEmpty();
        }
    }

    @Test
    void iterationsWithDifferentRandomSourcesStartAtDifferentPlaces(@TempDir Path dir) {
        try (HashIndex idx = HashIndex.create(dir.resolve("order.hidx"), Options.widths(16, 16).seed(11))) {
            for (int i = 0; i < 2000; i++) {
                idx.put(key16(i), value16(i, 0));
            }
            List<Bytes> a = order(idx, new Random(1));
            List<Bytes> b = order(idx, new Random(2));
            List<Bytes> again = order(idx, new Random(1));
            assertThat(a).hasSize(2000).doesNotHaveDuplicates();
            assertThat(b).hasSize(2000).containsExactlyInAnyOrderElementsOf(a);
            assertThat(b).as("orders from Random(1) and Random(2)").isNotEqualTo(a);
            assertThat(b.getFirst()).as("first keys from Random(1) and Random(2)").isNotEqualTo(a.getFirst());
            assertThat(again).as("the same seed gives the same order").isEqualTo(a);
        }
    }

    private static List<Bytes> order(HashIndex idx, Random random) {
        List<Bytes> keys = new ArrayList<>();
        idx.iterator(random).forEachRemaining(e -> keys.add(Bytes.of(e.getKey())));
        return keys;
    }

    @Test
    void forEachAndTheDefaultIteratorVisitEveryEntryOnce(@TempDir Path dir) {
        try (HashIndex idx = HashIndex.create(dir.resolve("foreach.hidx"), Options.widths(16, 16).seed(12))) {
            Map<Bytes, byte[]> model = new HashMap<>();
            for (int i = 0; i < 500; i++) {
                idx.put(key16(i), value16(i, 0));
                model.put(Bytes.of(key16(i)), value16(i, 0));
            }
            Map<Bytes, byte[]> seen = new HashMap<>();
            idx.forEach((k, v) -> assertThat(seen.put(Bytes.of(k), v)).isNull());
            assertThat(seen.keySet()).isEqualTo(model.keySet());
            seen.forEach((k, v) -> assertThat(v).isEqualTo(model.get(k)));
            int count = 0;
            for (Map.Entry<byte[], byte[]> ignored : idx) {
                count++;
            }
            assertThat(count).isEqualTo(500);
        }
    }

    @Test
    void iteratingAnEmptyIndexReturnsNothing(@TempDir Path dir) {
        try (HashIndex idx = HashIndex.create(dir.resolve("empty.hidx"), Options.widths(16, 16).seed(13))) {
            assertThat(idx.iterator(new Random(1)).hasNext()).isFalse();
            idx.put(key16(1), value16(1, 0));
            idx.remove(key16(1));
            Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(1));
            assertThat(it.hasNext()).isFalse();
            assertThatThrownBy(it::next).isInstanceOf(NoSuchElementException.class);
        }
    }

    /**
     * An iterator that started during a doubling reads a not-yet-evacuated old bucket and keeps only
     * the entries of its own (new) bucket. If, while it is in the middle of that old bucket, the growth
     * completes and the next doubling starts, "its own bucket" must still be judged by the bucket count
     * the iterator started with, not by the table's current one, or the rest of that old bucket is lost.
     */
    @Test
    void anIteratorInTheMiddleOfAnOldBucketLosesNothingWhenTheNextDoublingStarts(@TempDir Path dir) {
        int cases = 0;
        for (long seed = 1; seed <= 40; seed++) {
            Map<Bytes, byte[]> model = new HashMap<>();
            try (HashIndex idx = HashIndex.create(dir.resolve("mid-" + seed + ".hidx"), Options.widths(16, 16).seed(seed))) {
                Header h = idx.table().h;
                int n = fillUntilGrowing(idx, model, 256);
                long startBuckets = h.bucketCount;
                Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(seed));
                byte[] firstKey = it.next().getKey();
                long firstBucket = Hashing.bucketIndex(Hashing.hash(firstKey, h.seed), startBuckets);
                boolean readFromOldBucket = !BucketLayout.isEvacuatedMark(
                        idx.table().layout.tophash(h.oldBucketsCell + firstBucket / 2, 0));
                long sameBucket = model.keySet().stream()
                        .filter(k -> Hashing.bucketIndex(Hashing.hash(k.array(), h.seed), startBuckets) == firstBucket)
                        .count();
                if (!readFromOldBucket || sameBucket < 3) {
                    continue; // this seed does not set up the situation; the count below makes sure enough do
                }
                cases++;
                Set<Bytes> returned = new HashSet<>();
                returned.add(Bytes.of(firstKey));
                idx.finishGrowth();
                int next = n;
                while (!h.growing()) {
                    idx.put(key16(next), value16(next, 0));
                    next++;
                }
                assertThat(h.bucketCount).isEqualTo(2 * startBuckets);
                while (it.hasNext()) {
                    Bytes k = Bytes.of(it.next().getKey());
                    assertThat(returned.add(k)).as("seed %d: key %s returned twice", seed, k).isTrue();
                }
                assertThat(returned).as("seed %d: every key present before the iteration", seed)
                        .containsAll(model.keySet());
            }
        }
        assertThat(cases).as("seeds whose iterator started inside an unevacuated old bucket").isGreaterThan(10);
    }

    /**
     * A growth that completes while an iterator is open retires the old array; the iterator may still
     * be reading it, so its cells must not be reused (as overflow pages) before the iterator is done.
     */
    @Test
    void anOpenIteratorKeepsARetiredArrayFromBeingReused(@TempDir Path dir) {
        Map<Bytes, byte[]> model = new HashMap<>();
        try (HashIndex idx = HashIndex.create(dir.resolve("pin.hidx"), Options.widths(16, 16).seed(14))) {
            Header h = idx.table().h;
            int n = fillUntilGrowing(idx, model, 256);
            Iterator<Map.Entry<byte[], byte[]>> it = idx.iterator(new Random(14));
            Set<Bytes> returned = new HashSet<>();
            // take one entry, then finish the growth, then grow again so overflow pages are wanted
            Map.Entry<byte[], byte[]> first = it.next();
            returned.add(Bytes.of(first.getKey()));
            idx.finishGrowth();
            assertThat(h.growing()).isFalse();
            assertThat(idx.inspect().retiredPages()).as("the old array waits for the iterator").isPositive();
            int next = n;
            while (h.doublings < 10 || h.growing()) {
                idx.put(key16(next), value16(next, 0));
                model.put(Bytes.of(key16(next)), value16(next, 0));
                next++;
            }
            while (it.hasNext()) {
                Bytes k = Bytes.of(it.next().getKey());
                assertThat(returned.add(k)).as("key %s returned twice", k).isTrue();
            }
            Set<Bytes> initial = new HashSet<>();
            for (int i = 0; i < n; i++) {
                initial.add(Bytes.of(key16(i)));
            }
            assertThat(returned).containsAll(initial);
            assertThat(model.keySet()).containsAll(returned);
            assertThat(idx.verify()).isEmpty();
        }
    }
}
