"""Figure conventions shared by the tools: headless backend, one DPI, the case name in every
title, PNG bytes for the HTML report."""
import io as _io

import matplotlib

matplotlib.use("Agg")  # the tools run on machines without a display (CI, clusters)
import matplotlib.pyplot as plt  # noqa: E402

DPI = 100


def figure(nrows=1, ncols=1, size=(9.0, 5.5), **kw):
    fig, axes = plt.subplots(nrows, ncols, figsize=size, squeeze=False, constrained_layout=True, **kw)
    return fig, axes


def title(fig, cases, what):
    """'<case>: <what>'; several distinct case names are joined."""
    names = []
    for c in ([cases] if isinstance(cases, str) else cases):
        if c not in names:
            names.append(c)
    fig.suptitle("%s: %s" % (" vs ".join(names), what))


def save(fig, path):
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def png_bytes(fig):
    buf = _io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def shade(ax, t0, t1, label):
    ax.axvspan(t0, t1, color="0.9", zorder=0, label=label)
