"""NetBuilder: design neural networks visually, watch them learn, export them."""
__version__ = "0.1.0"
