"""OpenLineage for the transcription operators: what they read and write, and what they report.

The OpenLineage listener (``apache-airflow-providers-openlineage``, when installed and configured)
calls each operator's ``get_openlineage_facets_on_complete`` or ``_on_failure`` once the try ends;
those thin methods hand over to :mod:`~airflow_provider_qwenasr.lineage.facets`, the one module that
imports OpenLineage. The rest stays free of it, so a DAG file parses without loading OpenLineage and
the provider works unchanged where it is not installed:

* :mod:`~airflow_provider_qwenasr.lineage.naming`: a location (audio URL, object-storage URI, local
  path) turned into a dataset's namespace and name, as OpenLineage's naming spec says, never with a
  query string (which may be a signature), a fragment or credentials;
* :mod:`~airflow_provider_qwenasr.lineage.record`: what a try learnt (the DashScope task, the
  manifest, the error), kept on the operator for the listener to read.

``docs/lineage.md`` says what each operator emits.
"""

from __future__ import annotations

__all__: list[str] = []
