"""The provider's pages in the Airflow 3 UI: a Transcript tab on task instances and a Transcriptions page.

Nothing outside this package imports it: the api-server loads :class:`~.plugin.QwenASRPlugin`
(registered in the provider info), and the FastAPI app behind it is only built when the first
request reaches ``/qwen-asr``. Modules:

* ``routes``      the mount prefix and the route paths, written once (a leaf: imports nothing here)
* ``plugin``      the AirflowPlugin: mounts the app and declares the tab and the nav page
* ``app``         the FastAPI app and its routes (thin: authorize, look up, render)
* ``access``      Airflow's own authorization dependencies, as used by the core REST API
* ``store``       metadata-DB reads: manifests and failure records in XCom, task instances, logs
* ``manifest``    which output a download may serve (the schema is ``results.manifest``)
* ``sentences``   pages, lanes and timeline of the sentences ``results.read`` streams from outputs
* ``timeline``    the inline SVG timeline
* ``views``       template contexts built from manifests, task instances and transcript pages
* ``links``       URLs of the app's pages and of the Airflow UI (sub-path aware)
* ``templates``   the HTML, as Jinja2 templates; ``render`` renders them autoescaped
"""

from __future__ import annotations

__all__: list[str] = []
