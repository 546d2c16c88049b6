"""Operation messages, one module per family; each has client-side request encoders and
answer decoders, and the mirror server-side request decoders and answer encoders.

``cache_keys`` 1000-1021, ``cache_config``/``cache_properties`` 1050-1056,
``partitions`` 1101, ``queries`` 0 and 2000/2001, ``sql`` 2002-2005,
``binary_types`` 3000-3003, ``tx`` 4000/4001, ``cluster`` 5000/5001 and
5100-5102, ``heartbeat`` 1/2, ``scalars`` single-scalar answer bodies.
"""
