"""Reading and writing inventory files: simpul's own YAML and containerlab topologies.

Kept free of imports so ``labs`` can use the pure ``inventory.io.clab`` converter
without loading the database layer.
"""
