package io.hashidx.store.jcstress;

import static io.hashidx.store.jcstress.SharedIndex.INDEX;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.II_Result;

/**
 * A lock-free get and an allocation-free get racing with a remove and a new insert of their key (which
 * may land in another slot) see the old value, nothing, or the new value, each whole.
 */
@JCStressTest
@Outcome(id = "[012], [012]", expect = Expect.ACCEPTABLE, desc = "before, between or after, whole")
@Outcome(expect = Expect.FORBIDDEN, desc = "torn or another key's")
@State
public class RemoveInsertRead {
    private final int k = SharedIndex.nextKey();
    private final byte[] key = SharedIndex.key(k);

    public RemoveInsertRead() {
        INDEX.put(key, SharedIndex.value(k, 1));
    }

    @Actor
    public void writer() {
        INDEX.remove(key);
        INDEX.put(key, SharedIndex.value(k, 2));
    }

    @Actor
    public void reader(II_Result r) {
        r.r1 = SharedIndex.write(k, INDEX.get(key));
        byte[] dest = new byte[24];
        int len = INDEX.get(key, dest);
        r.r2 = len < 0 ? 0 : SharedIndex.write(k, java.util.Arrays.copyOf(dest, len));
    }
}
