// Server-sent events over fetch (EventSource cannot send the Authorization header), shared by
// the agent console and the web console: calls `onEvent(data)` for each event's JSON, in
// order, and reconnects two seconds after the stream ends or fails.
async function followEvents(url, headers, onEvent) {
  for (;;) {
    try {
      const response = await fetch(url, { headers });
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = frame.split("\n").find((line) => line.startsWith("data: "));
          if (data) await onEvent(JSON.parse(data.slice(6)));
        }
      }
    } catch (error) {
      console.warn("event stream:", error);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
