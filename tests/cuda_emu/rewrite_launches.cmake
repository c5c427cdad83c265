# A .cu file as C++ for the CPU emulation of the CUDA runtime (cuda_runtime.h here):
# kernel<<<grid, block, shared, stream>>>(args) becomes
# kernel | ::emu::cfg(grid, block, shared, stream) | ::emu::args(args). Nothing else changes;
# the #line keeps compiler messages pointing at the original file.
file(READ ${IN} src)
string(REPLACE "<<<" " | ::emu::cfg(" src "${src}")
string(REPLACE ">>>" ") | ::emu::args" src "${src}")
file(WRITE ${OUT} "#line 1 \"${IN}\"\n${src}")
