"""The DashScope wire protocol under both hooks: what is sent, what is checked first, what comes back.

Private: the public names are re-exported by :mod:`airflow_provider_qwenasr.protocol`. One module per
rule: ``settings`` (the connection's meaning), ``request`` (every request built once), ``validate``
(input checked before anything is billed), ``errors`` (every answer and transport failure turned
into a :class:`~airflow_provider_qwenasr.exceptions.QwenASRError`), ``retry`` (when and how long to
wait before trying a read again).
"""
