"""The poll loop: which deployments to read (targets), what one poll asks and how its
answers are read (poller), and a deployment's polling life (watcher)."""
