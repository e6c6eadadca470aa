/**
 * Framing: where one reply ends in the byte stream, per protocol. A framer
 * looks at the bytes received so far and returns the first complete reply
 * (its body, without terminators) and how many bytes it used, or nothing yet.
 */
export interface Framing {
  readonly name: string;
  /** The first complete reply in `buf`, or undefined when more bytes are needed. */
  next(buf: Buffer): { body: Buffer; used: number } | undefined;
}

/**
 * Replies end at `terminator` (LF by default). A CR before the LF is dropped
 * from the body, so LF and CRLF instruments (the SG384) share one framer.
 */
export function lineFraming(terminator = 0x0a): Framing {
  return {
    name: 'line',
    next(buf) {
      const i = buf.indexOf(terminator);
      if (i < 0) return undefined;
      const end = i > 0 && buf[i - 1] === 0x0d ? i - 1 : i;
      return { body: buf.subarray(0, end), used: i + 1 };
    },
  };
}

/**
 * PI GCS 2.0: an answer ends at an LF *not* preceded by a space; a line that
 * ends with "space LF" continues (multi-axis answers `1=12.3 \n2=4.5\n`).
 * The body keeps the inner line breaks (without the continuation spaces).
 */
export function gcsFraming(): Framing {
  return {
    name: 'gcs',
    next(buf) {
      let from = 0;
      for (;;) {
        const i = buf.indexOf(0x0a, from);
        if (i < 0) return undefined;
        if (i === 0 || buf[i - 1] !== 0x20) {
          const text = buf.subarray(0, i).toString('latin1').replace(/ \n/g, '\n');
          return { body: Buffer.from(text, 'latin1'), used: i + 1 };
        }
        from = i + 1;
      }
    },
  };
}
