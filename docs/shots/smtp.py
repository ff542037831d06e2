"""docs/smtp_composer.png and docs/smtp_inbox.png: a send to the lab sink, then its Inbox.

``--small`` makes docs/smtp_composer_small.png and docs/smtp_inbox_small.png at 1024x700.
"""

import sys
import tempfile
from pathlib import Path

from common import capture, launch, pump  # type: ignore[import-not-found]

small = "--small" in sys.argv  # 1024x700: check the layout still fits
# a little shorter than the screen: without a window manager the menu bar adds height
app = launch(geometry="1024x680+0+0" if small else "1280x770+0+0")
tab = app.tab("smtp")
app.select_tab(app.tabs.index(tab))
sink = app.lab.peer("smtp")
sink.start()
tab.use_lab_sink()
attachment = Path(tempfile.mkdtemp()) / "quarterly-report.pdf"
attachment.write_bytes(b"%PDF-1.4\n" + bytes(range(256)) * 800)
composer = tab.composer
for name, value in (("sender", "Ann Example <ann@example.com>"),
                    ("to", "lab@localhost, Bob <bob@example.org>"),
                    ("cc", "team@example.org"), ("subject", "Quarterly report")):
    composer.vars[name].set(value)
composer.texts["body"].insert("1.0", "Hi Bob,\n\nthe report is attached.\n.\n..and a dotted "
                              "line survives.\n\nAnn\n")
composer.add_attachments([str(attachment)])
tab.verb_var.set("VRFY")
tab.argument_var.set("lab")
tab.run_verb()  # opens a session by hand; Send then rides it
pump(app.root, 5, until=lambda: "VRFY" in app.status_var.get())
tab.send()
pump(app.root, 10, until=lambda: "Sent" in app.status_var.get())
print(capture(app.root, "smtp_composer_small" if small else "smtp_composer"))
tab.views.select(tab.inbox)
pump(app.root, 0.3)
tab.inbox.select(tab.inbox.message_ids()[0])
tab.inbox.views.select(0)
pump(app.root, 10, until=lambda: tab.inbox.shown is not None)
print(capture(app.root, "smtp_inbox_small" if small else "smtp_inbox"))
sink.stop()
app.close()
