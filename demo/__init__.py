"""The bundled demo: fixture sites modelled on the real sources, a local mail sink, and the
``carewatch demo`` run that crawls, stores and alerts against them with no internet."""
