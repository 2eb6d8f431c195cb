package io.hashidx.tools;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Map;

/** Runs a command line in-process through {@link Main#run} and keeps what it printed. */
record Cli(int exitCode, String out, String err) {

    static Cli run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Cli(code, out.toString(), err.toString());
    }

    /** The output parsed as one JSON object. */
    Map<String, Object> json() {
        return MiniJson.object(out);
    }

    @Override
    public String toString() {
        return "exit " + exitCode + "\n--- out ---\n" + out + "--- err ---\n" + err;
    }
}
