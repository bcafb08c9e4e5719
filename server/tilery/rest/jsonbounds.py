"""Bounds on JSON that clients send: nesting depth, checked on the raw bytes as they
arrive, before any parser sees them.

Parsers pay for depth before they can refuse it: ijson hands every event its full
path ("elements.item.user.a.a..."), so a 600 KB body nested 100,000 deep cost 45 s
and 10 GB; Python code that walks a nested value hits RecursionError. Counting
brackets outside strings is cheap with numpy (0.2 s for the 128 MB of 1M rectangles,
in 256 KB blocks that stay in the CPU cache), so every JSON body and annotation file
goes through one ``DepthGuard`` as it streams, and a body that nests too deep is
refused at the block that goes past the limit.
"""
import numpy as np

from ..errors import RestError

BLOCK = 256 << 10
_QUOTE, _BACKSLASH = ord('"'), ord('\\')


def escaped_bytes(block, escape_first):
    """Which bytes follow an escaping backslash (None: no byte), and the carry-over."""
    backslashes = np.flatnonzero(block == _BACKSLASH)
    if not len(backslashes) and not escape_first:
        return None, False
    escaped = np.zeros(len(block), dtype=bool)
    free = 0  # the first position that is not itself escaped
    if escape_first:
        escaped[0] = True
        free = 1
    carry = False
    for pos in backslashes.tolist():
        if pos < free:
            continue
        if pos + 1 < len(block):
            escaped[pos + 1] = True
        else:
            carry = True
        free = pos + 2
    return escaped, carry


def too_deep(max_depth):
    return RestError('The JSON is nested more than %d levels deep (setting max_json_depth).'
                     % max_depth)


class BracketScan:
    """The brackets of a JSON text read block by block, with the depth after each.

    Quotes that are not escaped toggle "inside a string"; brackets outside strings
    open and close levels. State carries from one block to the next. Past a few
    whole-block passes only bracket and quote positions are worked on: a running depth
    over every byte took 2-4x as long (0.5 s against 0.2 s for 128 MB).
    """

    def __init__(self):
        self.depth = 0
        self.in_string = False
        self.escape_next = False

    def block(self, block):
        """(positions, opens, depth after each) of the brackets outside strings in the
        next uint8 block; ``opens`` is True for '[' and '{'."""
        escaped, self.escape_next = escaped_bytes(block, self.escape_next)
        quotes = np.flatnonzero(block == _QUOTE)
        if escaped is not None:
            quotes = quotes[~escaped[quotes]]
        # '[' and '{' are 0x5b and 0x7b, ']' and '}' 0x5d and 0x7d: one mask for all four
        folded = block | 0x20
        brackets = np.flatnonzero((folded == 0x7b) | (folded == 0x7d))
        # an odd count of quotes before a bracket (with the carried state): in a string
        inside = (np.searchsorted(quotes, brackets) + self.in_string) & 1
        brackets = brackets[inside == 0]
        opens = folded[brackets] == 0x7b
        after = np.cumsum(opens.astype(np.int32) * 2 - 1) + self.depth
        self.in_string = bool((len(quotes) + self.in_string) & 1)
        if len(after):
            self.depth = int(after[-1])
        return brackets, opens, after


class DepthGuard:
    """Fed a JSON text piece by piece; raises a 400 as soon as it nests past ``max_depth``."""

    def __init__(self, max_depth):
        self.max_depth = max_depth
        self._scan = BracketScan()

    def feed(self, data):
        """Check the next bytes of the text; returns them unchanged."""
        for start in range(0, len(data), BLOCK):
            block = np.frombuffer(data, dtype=np.uint8, offset=start,
                                  count=min(BLOCK, len(data) - start))
            after = self._scan.block(block)[2]
            if len(after) and int(after.max()) > self.max_depth:
                raise too_deep(self.max_depth)
            # below zero the text is malformed (its parser says so): never bank depth
            self._scan.depth = max(0, self._scan.depth)
        return data

    def check_chunks(self, chunks):
        """Yield ``chunks`` after checking each one."""
        for chunk in chunks:
            yield self.feed(chunk)


def check_depth(data, max_depth):
    """Refuse (400) a whole JSON text nested deeper than ``max_depth``."""
    if isinstance(data, str):
        data = data.encode('utf-8', 'surrogatepass')
    DepthGuard(max_depth).feed(data)
    return data
