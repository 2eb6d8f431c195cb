package io.hashidx.store.jcstress;

import static io.hashidx.store.jcstress.SharedIndex.INDEX;

import org.openjdk.jcstress.annotations.Actor;
import org.openjdk.jcstress.annotations.Expect;
import org.openjdk.jcstress.annotations.JCStressTest;
import org.openjdk.jcstress.annotations.Outcome;
import org.openjdk.jcstress.annotations.State;
import org.openjdk.jcstress.infra.results.I_Result;

/** A lock-free get racing with an overwrite of its key sees the value before or after, whole. */
@JCStressTest
@Outcome(id = "1", expect = Expect.ACCEPTABLE, desc = "the value before the overwrite")
@Outcome(id = "2", expect = Expect.ACCEPTABLE, desc = "the value after the overwrite")
@Outcome(expect = Expect.FORBIDDEN, desc = "torn, another key's, or missing")
@State
public class OverwriteRead {
    private final int k = SharedIndex.nextKey();
    private final byte[] key = SharedIndex.key(k);

    public OverwriteRead() {
        INDEX.put(key, SharedIndex.value(k, 1));
    }

    @Actor
    public void writer() {
        INDEX.put(key, SharedIndex.value(k, 2));
    }

    @Actor
    public void reader(I_Result r) {
        r.r1 = SharedIndex.write(k, INDEX.get(key));
    }
}
