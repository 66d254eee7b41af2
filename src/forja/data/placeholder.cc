namespace forja { int data_placeholder; }
