"""cio-bugtracker as a process the tests and the benchmark start and stop."""
import os
import signal
import subprocess

import reference


def load(binary, db_url, files=(), nbugs=None, env=None):
    """--init-db --load-only --force: the fixture files, or the demo
    dataset (nbugs bugs)."""
    cmd = [binary, "--db", db_url, "--init-db", "--force", "--load-only"]
    for f in files:
        cmd += ["--data", f]
    if nbugs:
        cmd += ["--bugs", str(nbugs)]
    r = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{r.stderr}")


class Service:
    def __init__(self, binary, db_url, static_dir, log_path, port=None, sql=None,
                 workers=None, extra=(), env=None):
        self.port = port or reference.free_port()
        cmd = [binary, "--db", db_url, "--host", "127.0.0.1", "--port", str(self.port)]
        if static_dir is not None:
            cmd += ["--static", static_dir]
        if sql:
            cmd += ["--sql", sql]
        if workers:
            cmd += ["--workers", str(workers)]
        cmd += list(extra)
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     env=dict(env or os.environ, NO_COLOR="1"))
        reference.wait_port(self.port, self.proc)

    def stop(self):
        """SIGTERM (graceful: the lifespan closes the pool), then wait.
        Returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode

    def log_text(self):
        return open(self.log_path, encoding="utf-8", errors="replace").read()
