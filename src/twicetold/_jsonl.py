"""Compiled JSON Lines scanning: the fields a scan needs, straight from a block's bytes.

Arrow's JSON reader builds every column of every row and guesses their types; a scan needs
four string fields (id, text, date, source) as UTF-8 and the rest of each object only when
there is any. ``parse_block`` validates each line as strict JSON (RFC 8259: UTF-8, escapes,
numbers, nesting) and, in one pass, decodes the wanted string fields into a buffer and
copies every other member, as written, into a small JSON object per line (the metadata,
typed later by Arrow like before). Anything it does not take as it is (a blank line, a
wanted field that is not a string, a repeated wanted key, a lone surrogate, nesting deeper
than ``MAX_NESTING`` levels, invalid UTF-8 or JSON) marks the line bad, and the reader then
reads the block line by line with every check.

The kernels are serial and release the GIL: the reader runs one per block on several
threads, beside the sketch kernels.
"""

from __future__ import annotations

import numpy as np
from numba import njit

QUOTE, BACKSLASH, COLON, COMMA = 0x22, 0x5C, 0x3A, 0x2C
LBRACE, RBRACE, LBRACKET, RBRACKET = 0x7B, 0x7D, 0x5B, 0x5D
MAX_NESTING = 64  # levels a row may nest, itself included: the careful reader marks deeper rows malformed
MAX_DEPTH = MAX_NESTING - 1  # levels below the row's own object
ABSENT, NULL, STRING = 0, 1, 2  # what a line holds for a wanted field


@njit(cache=True, nogil=True, inline="always")
def _is_space(b):  # type: ignore[no-untyped-def]
    return b == 0x20 or b == 0x0A or b == 0x0D or b == 0x09


@njit(cache=True, nogil=True, inline="always")
def _skip_space(data, i, end):  # type: ignore[no-untyped-def]
    while i < end and _is_space(data[i]):
        i += 1
    return i


@njit(cache=True, nogil=True)
def _utf8_length(data, i, end):  # type: ignore[no-untyped-def]
    """Length of the valid UTF-8 sequence at ``i`` (lead byte >= 0x80), 0 when invalid
    (overlong forms, encoded surrogates and code points above U+10FFFF are invalid)."""
    b0 = data[i]
    if 0xC2 <= b0 <= 0xDF:
        n, lo, hi = 2, 0x80, 0xBF
    elif b0 == 0xE0:
        n, lo, hi = 3, 0xA0, 0xBF
    elif 0xE1 <= b0 <= 0xEF:
        n, lo, hi = 3, 0x80, 0x9F if b0 == 0xED else 0xBF
    elif b0 == 0xF0:
        n, lo, hi = 4, 0x90, 0xBF
    elif 0xF1 <= b0 <= 0xF3:
        n, lo, hi = 4, 0x80, 0xBF
    elif b0 == 0xF4:
        n, lo, hi = 4, 0x80, 0x8F
    else:
        return 0
    if i + n > end or not lo <= data[i + 1] <= hi:
        return 0
    for k in range(2, n):
        if not 0x80 <= data[i + k] <= 0xBF:
            return 0
    return n


@njit(cache=True, nogil=True)
def _hex4(data, i, end):  # type: ignore[no-untyped-def]
    """The value of four hex digits at ``i``, or -1."""
    if i + 4 > end:
        return -1
    v = 0
    for k in range(4):
        b = data[i + k]
        if 0x30 <= b <= 0x39:
            d = b - 0x30
        elif 0x61 <= b <= 0x66:
            d = b - 0x61 + 10
        elif 0x41 <= b <= 0x46:
            d = b - 0x41 + 10
        else:
            return -1
        v = v * 16 + d
    return v


@njit(cache=True, nogil=True)
def _string(data, i, end, out, o, write):  # type: ignore[no-untyped-def]
    """The JSON string whose opening quote is at ``i - 1``: decoded into ``out[o:]`` when
    ``write``. Returns (index after the closing quote, new ``o``, whether it held a
    backslash), or (-1, o, False) when it is not valid."""
    escaped = False
    while i < end:
        b = data[i]
        if b == QUOTE:
            return i + 1, o, escaped
        if b < 0x20:
            return -1, o, False
        if b < 0x80 and b != BACKSLASH:
            if write:
                out[o] = b
            o += 1
            i += 1
            continue
        if b >= 0x80:
            n = _utf8_length(data, i, end)
            if n == 0:
                return -1, o, False
            if write:
                for k in range(n):
                    out[o + k] = data[i + k]
            o += n
            i += n
            continue
        escaped = True
        if i + 1 >= end:
            return -1, o, False
        e = data[i + 1]
        i += 2
        if e == 0x75:  # \uXXXX, a surrogate pair as two
            cp = _hex4(data, i, end)
            if cp < 0 or 0xDC00 <= cp <= 0xDFFF:
                return -1, o, False  # a lone low surrogate: the careful reader replaces it
            i += 4
            if 0xD800 <= cp <= 0xDBFF:
                if i + 1 >= end or data[i] != BACKSLASH or data[i + 1] != 0x75:
                    return -1, o, False
                low = _hex4(data, i + 2, end)
                if not 0xDC00 <= low <= 0xDFFF:
                    return -1, o, False
                cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00)
                i += 6
            if cp < 0x80:
                if write:
                    out[o] = cp
                o += 1
            elif cp < 0x800:
                if write:
                    out[o] = 0xC0 | (cp >> 6)
                    out[o + 1] = 0x80 | (cp & 0x3F)
                o += 2
            elif cp < 0x10000:
                if write:
                    out[o] = 0xE0 | (cp >> 12)
                    out[o + 1] = 0x80 | ((cp >> 6) & 0x3F)
                    out[o + 2] = 0x80 | (cp & 0x3F)
                o += 3
            else:
                if write:
                    out[o] = 0xF0 | (cp >> 18)
                    out[o + 1] = 0x80 | ((cp >> 12) & 0x3F)
                    out[o + 2] = 0x80 | ((cp >> 6) & 0x3F)
                    out[o + 3] = 0x80 | (cp & 0x3F)
                o += 4
            continue
        if e == QUOTE or e == BACKSLASH or e == 0x2F:  # noqa: SIM109 (plain compares compile best)
            c = e
        elif e == 0x62:
            c = 0x08
        elif e == 0x66:
            c = 0x0C
        elif e == 0x6E:
            c = 0x0A
        elif e == 0x72:
            c = 0x0D
        elif e == 0x74:
            c = 0x09
        else:
            return -1, o, False
        if write:
            out[o] = c
        o += 1
    return -1, o, False


@njit(cache=True, nogil=True)
def _digits(data, i, end):  # type: ignore[no-untyped-def]
    start = i
    while i < end and 0x30 <= data[i] <= 0x39:
        i += 1
    return i, i - start


@njit(cache=True, nogil=True)
def _number(data, i, end):  # type: ignore[no-untyped-def]
    """Index after the JSON number at ``i``, or -1 (no NaN, no leading zeros, no bare dot)."""
    if i < end and data[i] == 0x2D:
        i += 1
    if i < end and data[i] == 0x30:
        i += 1
    else:
        i, n = _digits(data, i, end)
        if n == 0:
            return -1
    if i < end and data[i] == 0x2E:
        i, n = _digits(data, i + 1, end)
        if n == 0:
            return -1
    if i < end and (data[i] == 0x65 or data[i] == 0x45):
        i += 1
        if i < end and (data[i] == 0x2B or data[i] == 0x2D):
            i += 1
        i, n = _digits(data, i, end)
        if n == 0:
            return -1
    return i


@njit(cache=True, nogil=True)
def _literal(data, i, end, word):  # type: ignore[no-untyped-def]
    if i + word.shape[0] > end:
        return -1
    for k in range(word.shape[0]):
        if data[i + k] != word[k]:
            return -1
    return i + word.shape[0]


TRUE = np.frombuffer(b"true", dtype=np.uint8)
FALSE = np.frombuffer(b"false", dtype=np.uint8)
NULL_WORD = np.frombuffer(b"null", dtype=np.uint8)


@njit(cache=True, nogil=True)
def _member_key(data, i, end, scratch):  # type: ignore[no-untyped-def]
    """Index after the ``"key":`` of an object member starting at ``i``, or -1."""
    if i >= end or data[i] != QUOTE:
        return -1
    i, _, _ = _string(data, i + 1, end, scratch, 0, False)
    if i < 0:
        return -1
    i = _skip_space(data, i, end)
    if i >= end or data[i] != COLON:
        return -1
    return i + 1


@njit(cache=True, nogil=True)
def _value(data, i, end, stack, scratch):  # type: ignore[no-untyped-def]
    """Index after the JSON value starting at ``i`` (objects and arrays nested up to
    ``MAX_DEPTH``), or -1 when it is not valid JSON."""
    depth = 0
    while True:
        # a value starts at i
        i = _skip_space(data, i, end)
        if i >= end:
            return -1
        b = data[i]
        if b == LBRACE or b == LBRACKET:  # noqa: SIM109
            if depth == stack.shape[0]:
                return -1
            stack[depth] = b
            depth += 1
            i = _skip_space(data, i + 1, end)
            if i < end and data[i] == b + 2:  # {} or []
                depth -= 1
                i += 1
            elif b == LBRACE:
                i = _member_key(data, i, end, scratch)
                if i < 0:
                    return -1
                continue
            else:
                continue
        elif b == QUOTE:
            i, _, _ = _string(data, i + 1, end, scratch, 0, False)
        elif b == 0x2D or 0x30 <= b <= 0x39:
            i = _number(data, i, end)
        elif b == 0x74:
            i = _literal(data, i, end, TRUE)
        elif b == 0x66:
            i = _literal(data, i, end, FALSE)
        elif b == 0x6E:
            i = _literal(data, i, end, NULL_WORD)
        else:
            return -1
        if i < 0:
            return -1
        # after a value: close containers, or go on to the next element
        while True:
            if depth == 0:
                return i
            i = _skip_space(data, i, end)
            if i >= end:
                return -1
            c = data[i]
            top = stack[depth - 1]
            if c == top + 2:
                depth -= 1
                i += 1
                continue
            if c != COMMA:
                return -1
            i = _skip_space(data, i + 1, end)
            if top == LBRACE:
                i = _member_key(data, i, end, scratch)
                if i < 0:
                    return -1
            break


@njit(cache=True, nogil=True)
def _which_key(data, start, stop, keys, key_offsets):  # type: ignore[no-untyped-def]
    for k in range(key_offsets.shape[0] - 1):
        a, b = key_offsets[k], key_offsets[k + 1]
        if b - a == stop - start:
            same = True
            for t in range(b - a):
                if data[start + t] != keys[a + t]:
                    same = False
                    break
            if same:
                return k
    return -1


@njit(cache=True, nogil=True)
def _line(data, start, end, keys, key_offsets, out, fill, state, meta, m0, stack):  # type: ignore[no-untyped-def]
    """One line: wanted field ``k`` decoded into ``out[k]`` from ``fill[k]`` on (``fill``
    advanced), the other members as one JSON object into ``meta`` from ``m0`` on. Returns the
    object's end in ``meta``, or -1 when the line is bad."""
    m = m0
    i = _skip_space(data, start, end)
    if i >= end or data[i] != LBRACE:
        return -1
    meta[m] = LBRACE
    m += 1
    i = _skip_space(data, i + 1, end)
    if i < end and data[i] == RBRACE:
        i += 1
    else:
        while True:
            if i >= end or data[i] != QUOTE:
                return -1
            key_start = i
            i, _, escaped = _string(data, i + 1, end, meta, 0, False)
            if i < 0 or escaped:
                return -1  # an escaped key might spell a wanted one: the careful reader decides
            key_stop = i - 1
            i = _skip_space(data, i, end)
            if i >= end or data[i] != COLON:
                return -1
            i = _skip_space(data, i + 1, end)
            k = _which_key(data, key_start + 1, key_stop, keys, key_offsets)
            if k >= 0:
                if state[k] != ABSENT:
                    return -1
                if i < end and data[i] == QUOTE:
                    i, o, _ = _string(data, i + 1, end, out[k], fill[k], True)
                    fill[k] = o
                    state[k] = STRING
                else:
                    i = _literal(data, i, end, NULL_WORD)  # a number or an object where a string belongs: bad
                    state[k] = NULL
            else:
                i = _value(data, i, end, stack, meta)
                if i >= 0:
                    if m > m0 + 1:
                        meta[m] = COMMA
                        m += 1
                    meta[m : m + i - key_start] = data[key_start:i]
                    m += i - key_start
            if i < 0:
                return -1
            i = _skip_space(data, i, end)
            if i < end and data[i] == COMMA:
                i = _skip_space(data, i + 1, end)
                continue
            if i < end and data[i] == RBRACE:
                i += 1
                break
            return -1
    if _skip_space(data, i, end) != end:
        return -1
    meta[m] = RBRACE
    return m + 1


@njit(cache=True, nogil=True)
def parse_block(data, line_ends, keys, key_offsets):  # type: ignore[no-untyped-def]
    """Parse the lines of ``data`` that end (exclusive) at ``line_ends``.

    ``keys``: the wanted keys' UTF-8 bytes back to back, bounds in ``key_offsets``. Returns
    ``(first_bad, state, offsets, out, meta)``:

    - ``first_bad``: the first line the careful reader must read, -1 when none (parsing
      stops there: the whole block then goes the careful way);
    - ``state[line, k]``: ``ABSENT``, ``NULL`` or ``STRING``;
    - ``out[k][offsets[k, line]:offsets[k, line + 1]]``: key ``k``'s (``k`` < 4) decoded value on that
      line (empty unless ``STRING``), so ``offsets[k]`` and ``out[k]`` are the buffers of an
      Arrow string column;
    - ``meta``: per line, its other members as one JSON object (``{}`` when none), each
      followed by a newline: JSON Lines for Arrow to type.
    """
    n = line_ends.shape[0]
    n_keys = key_offsets.shape[0] - 1
    # Decoded values are never longer than the line they come from. One buffer per key (at
    # most four): four separate ones stay below malloc's mmap threshold and reuse warm pages,
    # where one 4x block would be fresh (page-faulted) memory every time.
    size = data.shape[0]
    out = (np.empty(size, dtype=np.uint8), np.empty(size, dtype=np.uint8), np.empty(size, dtype=np.uint8),
           np.empty(size, dtype=np.uint8))
    meta = np.empty(data.shape[0] + 3 * n, dtype=np.uint8)
    state = np.full((n, n_keys), ABSENT, dtype=np.int8)
    offsets = np.zeros((n_keys, n + 1), dtype=np.int64)
    fill = np.zeros(n_keys, dtype=np.int64)
    stack = np.empty(MAX_DEPTH, dtype=np.uint8)
    m = 0
    start = 0
    for r in range(n):
        m = _line(data, start, line_ends[r], keys, key_offsets, out, fill, state[r], meta, m, stack)
        if m < 0:
            return r, state, offsets, out, meta[:0]
        meta[m] = 0x0A
        m += 1
        for k in range(n_keys):
            offsets[k, r + 1] = fill[k]
        start = line_ends[r]
    return -1, state, offsets, out, meta[:m]


# ------------------------------------------------------------------------- writing JSON Lines

INT, DECIMAL4, BOOL, TEXT, RAW = 0, 1, 2, 3, 4  # kinds of column ``write_rows`` writes
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_INT64_MIN = np.frombuffer(b"-9223372036854775808", dtype=np.uint8)  # the one int64 whose -v overflows


@njit(cache=True, nogil=True, inline="always")
def _put_int(out, m, v):  # type: ignore[no-untyped-def]
    if v < 0:
        if v == -9223372036854775808:
            out[m : m + 20] = _INT64_MIN
            return m + 20
        out[m] = 0x2D
        m += 1
        v = -v
    digits = 1
    t = v
    while t >= 10:
        t //= 10
        digits += 1
    for k in range(digits - 1, -1, -1):
        out[m + k] = 0x30 + v % 10
        v //= 10
    return m + digits


_ESCAPE = np.zeros(256, dtype=np.uint8)  # bytes a JSON string escapes: control characters, " and \\
_ESCAPE[:0x20] = 1
_ESCAPE[QUOTE] = _ESCAPE[BACKSLASH] = 1
_SHORT_ESCAPE = np.zeros(256, dtype=np.uint8)  # the letter after the backslash, where there is one (else \u00XX)
for _byte, _letter in zip(b'"\\\b\t\n\f\r', b'"\\btnfr', strict=True):
    _SHORT_ESCAPE[_byte] = _letter


@njit(cache=True, nogil=True, inline="always")
def _put_text(out, m, data, lo, hi):  # type: ignore[no-untyped-def]
    out[m] = QUOTE
    m += 1
    i = lo
    while i < hi:
        run = i
        while i < hi and _ESCAPE[data[i]] == 0:  # copy what needs no escape in one go
            i += 1
        out[m : m + i - run] = data[run:i]
        m += i - run
        if i == hi:
            break
        b = data[i]
        i += 1
        out[m] = BACKSLASH
        if _SHORT_ESCAPE[b]:
            out[m + 1] = _SHORT_ESCAPE[b]
            m += 2
        else:
            out[m + 1] = 0x75  # u00XX
            out[m + 2] = 0x30
            out[m + 3] = 0x30
            out[m + 4] = _HEX[b >> 4]
            out[m + 5] = _HEX[b & 15]
            m += 6
    out[m] = QUOTE
    return m + 1


@njit(cache=True, nogil=True)
def write_rows(lo, hi, prefixes, prefix_offsets, kinds, slots, ints, decimals, bools, texts, text_offsets,  # type: ignore[no-untyped-def]
               present, out):
    """Rows ``lo`` to ``hi - 1`` of a table as JSON Lines into ``out``, as orjson writes them
    (keys in column order, no spaces, ``"``, ``\\`` and control characters escaped, the rest
    of UTF-8 as it is). Returns ``(rows written, bytes written)``: it stops before a row that
    might not fit (a row takes at most its keys, 24 bytes per value, 6 per text byte).

    Column ``c`` is written after the bytes ``prefixes[prefix_offsets[c]:prefix_offsets[c + 1]]``
    (``{"key":`` or ``,"key":``), ``null`` where ``present[c, row]`` is 0, else as kind
    ``kinds[c]`` from row ``slots[c]`` of its kind's values: ``ints`` (all of int64),
    ``decimals`` (floats with at most four decimals, written as Python's ``repr`` writes them:
    ``0.5``, ``1.0``, ``0.0001``, ``-0.0``), ``bools``, or ``texts[slot]`` (an Arrow string column's data,
    ``text_offsets[slot]`` its offsets): a JSON string (``TEXT``) or JSON written as it is
    (``RAW``). Every line ends with ``}`` and a newline.
    """
    n_columns = kinds.shape[0]
    fixed = prefix_offsets[n_columns] + 2
    m = 0
    r = lo
    while r < hi:
        need = fixed
        for c in range(n_columns):
            if kinds[c] == TEXT or kinds[c] == RAW:
                need += 6 * (text_offsets[slots[c]][r + 1] - text_offsets[slots[c]][r]) + 4
            else:
                need += 24
        if m + need > out.shape[0]:
            break
        for c in range(n_columns):
            for i in range(prefix_offsets[c], prefix_offsets[c + 1]):
                out[m] = prefixes[i]
                m += 1
            s = slots[c]
            kind = kinds[c]
            if not present[c, r]:
                out[m : m + 4] = NULL_WORD
                m += 4
            elif kind == INT:
                m = _put_int(out, m, ints[s, r])
            elif kind == DECIMAL4:
                scaled = round(decimals[s, r] * 10000.0)
                whole, frac = scaled // 10000, scaled % 10000
                if scaled < 0 or (scaled == 0 and np.signbit(decimals[s, r])):  # -0.0 too, as repr writes it
                    out[m] = 0x2D
                    m += 1
                    whole, frac = (-scaled) // 10000, (-scaled) % 10000
                m = _put_int(out, m, whole)
                out[m] = 0x2E
                m += 1
                digits = 4
                while digits > 1 and frac % 10 == 0:
                    frac //= 10
                    digits -= 1
                for k in range(digits - 1, -1, -1):
                    out[m + k] = 0x30 + frac % 10
                    frac //= 10
                m += digits
            elif kind == BOOL:
                if bools[s, r]:
                    out[m : m + 4] = TRUE
                    m += 4
                else:
                    out[m : m + 5] = FALSE
                    m += 5
            elif kind == TEXT:
                m = _put_text(out, m, texts[s], text_offsets[s][r], text_offsets[s][r + 1])
            else:
                lo_b, hi_b = text_offsets[s][r], text_offsets[s][r + 1]
                out[m : m + hi_b - lo_b] = texts[s][lo_b:hi_b]
                m += hi_b - lo_b
        out[m] = RBRACE
        out[m + 1] = 0x0A
        m += 2
        r += 1
    return r - lo, m
