#include <cxxopts.hpp>
#include <iostream>

int main(int argc, char** argv) {
    cxxopts::Options options("rsexec", "Server-to-server FTP transfer");
    options.add_options()("h,help", "Show this help");
    auto result = options.parse(argc, argv);
    std::cout << options.help() << '\n';
    return 0;
}
