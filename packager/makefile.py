"""``Metadata: {BuildMethod: makefile}``: the function's own Makefile builds it, as with ``sam build``.

As aws-lambda-builders' custom_make workflow does: the code folder (``CodeUri``, holding the
``Makefile``) is copied to a scratch folder, and ``make build-<LogicalId>`` runs there with
``ARTIFACTS_DIR`` set to an empty folder; whatever the target puts into ``ARTIFACTS_DIR`` is the zip's
content (zipped reproducibly, as every artifact is). The copy holds the files a build of the folder
would zip (the ignore rules apply; files left out as secrets are not copied), so the source folder
stays clean and what the incremental cache covers (the Makefile and the folder's files) is what make
sees.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from lamctl.schemas.errors import BuildError, UsageError

BUILD_METHOD = "makefile"
MAKEFILE = "Makefile"
INSTALL_HINT = "install GNU make (Debian/Ubuntu: apt-get install make)"


def find_make() -> str:
    found = shutil.which("make")
    if found is None:
        raise UsageError("BuildMethod: makefile needs make, and no 'make' is on the PATH", hint=INSTALL_HINT)
    return found


class MakeBuild:
    """How one function's ``build-<LogicalId>`` target becomes its zip's contents."""

    def __init__(self, resource: str, source: str, where: str):
        self.resource = resource
        self.source = source
        self.target = f"build-{resource}"
        self.makefile = os.path.join(source, MAKEFILE)
        self.make = find_make()
        if not os.path.isfile(self.makefile):
            raise UsageError(f"{resource}: BuildMethod makefile runs the Makefile of the code folder, and "
                             f"{source} has none", where=where,
                             hint=f"add a Makefile with a target {self.target} that puts the files to ship "
                                  "into $(ARTIFACTS_DIR)")

    @property
    def key(self) -> str:
        real = os.path.realpath(self.make)
        try:
            st = os.stat(real)
            tool = f"{real}\0{st.st_size}\0{st.st_mtime_ns}"
        except OSError:
            tool = real
        return f"makefile\0{tool}\0{self.target}"

    def build(self, out_dir: str, entries, scratch: str, notify=None) -> None:
        """Copy ``entries`` (the walked code folder) to ``scratch``, then run the target into ``out_dir``."""
        for e in entries:
            dest = os.path.join(scratch, *e.arcname.split("/"))
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.copy2(e.path, dest)
        if not os.path.isfile(os.path.join(scratch, MAKEFILE)):
            raise UsageError(f"{self.resource}: the Makefile of {self.source} is left out by the ignore rules",
                             where=self.makefile, hint="remove the rule that ignores it (.lamctlignore, .gitignore)")
        if notify:
            notify(f"{self.resource}: make {self.target}")
        env = dict(os.environ, ARTIFACTS_DIR=out_dir)
        cmd = [self.make, "--makefile", os.path.join(scratch, MAKEFILE), self.target]
        try:
            proc = subprocess.run(cmd, cwd=scratch, env=env, capture_output=True, text=True)
        except OSError as exc:
            raise BuildError(f"cannot run {self.make} for {self.resource}: {exc.strerror}", where=self.resource,
                             hint=INSTALL_HINT) from None
        if proc.returncode != 0:
            output = (proc.stderr or "") + (proc.stdout or "")
            if f"No rule to make target '{self.target}'" in output or \
                    f"No rule to make target `{self.target}'" in output:
                raise UsageError(f"{self.resource}: the Makefile has no target {self.target}", where=self.makefile,
                                 hint=f"add '{self.target}:' with the commands that put the function's files "
                                      "into $(ARTIFACTS_DIR)")
            lines = [ln.strip() for ln in (proc.stderr or proc.stdout or "").splitlines() if ln.strip()]
            reason = "; ".join(lines[-3:]) or f"exit status {proc.returncode}"
            raise BuildError(f"make {self.target} failed for {self.resource}: {reason}", where=self.makefile,
                             hint="run the target by hand with ARTIFACTS_DIR set to see the whole output")
        if not any(files for _, _, files in os.walk(out_dir)):
            raise BuildError(f"make {self.target} put nothing into ARTIFACTS_DIR for {self.resource}",
                             where=self.makefile,
                             hint="the target must copy or write the function's files into $(ARTIFACTS_DIR)")
