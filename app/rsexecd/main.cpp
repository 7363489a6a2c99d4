#include <cxxopts.hpp>
#include <iostream>

int main(int argc, char** argv) {
    cxxopts::Options options("rsexecd", "FTP server with the RFC 438 LSTN/SOCK extension");
    options.add_options()("h,help", "Show this help");
    auto result = options.parse(argc, argv);
    std::cout << options.help() << '\n';
    return 0;
}
